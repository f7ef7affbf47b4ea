"""Text normalisation done in Python, at index and at query time alike.

The integ-test Elasticsearch has no analysis-common module (no stemmer, no synonym filter), so
plural folding and synonyms happen here: `fold` maps "Boots" and "boot" to one token, and
`expand` rewrites a folded query with the synonym map into alternative queries.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[a-z0-9]+")
_KEEP = ("ss", "us", "is")


def singular(token: str) -> str:
    """A light English S-stemmer (Harman's, with -ches/-shes/-xes): plurals to singulars."""
    if len(token) <= 3 or token.isdigit():
        return token
    if token.endswith("ies") and not token.endswith(("aies", "eies")):
        return token[:-3] + "y"
    if token.endswith("sses"):
        return token[:-2]
    if token.endswith(("ches", "shes", "xes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(_KEEP):
        return token[:-1]
    return token


def tokens(text: str) -> list[str]:
    return [singular(token) for token in _TOKEN.findall(text.lower())]


def fold(text: str) -> str:
    """Lowercased, tokenised, singular: the form `search_text` is indexed and queried in."""
    return " ".join(tokens(text))


# Query-time synonyms over folded tokens: a phrase a shopper types -> phrases the catalog uses.
# One-way on purpose: "sneaker" should find running shoes, "running shoe" need not find
# "sneaker" (no product says it). Keys and values are folded forms.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "sneaker": ("running shoe", "trail runner"),
    "trainer": ("running shoe",),
    "jogging": ("running",),
    "jogger": ("running shoe",),
    "coat": ("jacket",),
    "raincoat": ("rain jacket",),
    "anorak": ("rain jacket", "windbreaker"),
    "parka": ("down jacket",),
    "puffer": ("down jacket",),
    "shell": ("softshell jacket", "rain jacket"),
    "tee": ("t shirt",),
    "tshirt": ("t shirt",),
    "shirt": ("t shirt", "tee"),
    "rucksack": ("backpack", "pack"),
    "knapsack": ("backpack", "pack"),
    "bag": ("backpack", "pack"),
    "earphone": ("earbud", "headphone"),
    "headset": ("headphone",),
    "earpod": ("earbud",),
    "wristwatch": ("watch",),
    "smart watch": ("smartwatch",),
    "tracker": ("fitness tracker", "gps watch"),
    "torch": ("headlamp",),
    "flashlight": ("headlamp",),
    "lantern": ("lamp", "light"),
    "light": ("lamp",),
    "lamp": ("light",),
    "skillet": ("pan",),
    "frying pan": ("cast iron pan",),
    "teapot": ("kettle",),
    "shelter": ("tent", "bivy"),
    "trekking": ("hiking",),
    "hike": ("hiking",),
    "gray": ("grey",),
    "rain": ("waterproof",),
    "sleeping bag": ("bivy shelter",),
}
MAX_VARIANTS = 8


def _rewrites(query: str) -> list[str]:
    words = query.split()
    out: list[str] = []
    for key, values in SYNONYMS.items():
        key_words = key.split()
        width = len(key_words)
        for start in range(len(words) - width + 1):
            if words[start : start + width] == key_words:
                out += [
                    " ".join([*words[:start], value, *words[start + width :]]) for value in values
                ]
    return out


def expand(folded: str) -> list[str]:
    """The folded query plus its synonym rewrites, applied one after another so that "puffer
    coat" also becomes "down jacket" (breadth first, at most MAX_VARIANTS)."""
    variants = [folded]
    for variant in variants:  # grows while iterating: breadth-first closure
        for rewritten in _rewrites(variant):
            if rewritten not in variants and len(variants) < MAX_VARIANTS:
                variants.append(rewritten)
    return variants
