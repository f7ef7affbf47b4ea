"""Finding what looks like a card number (a Luhn-valid run of 13 to 19 digits), for audits of
stored data and logs: shoplake must never keep one."""

from __future__ import annotations

import re

# A run inside a longer alphanumeric word (a hex digest, a uuid4().hex key) is part of that
# word, not a card number; a run set off by anything else (space, "_", "-", quotes) counts.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]{13,19}(?![0-9A-Za-z])")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_numbers_in(text: str) -> list[str]:
    """Every digit run in text that could be a card number."""
    return [run for run in _DIGIT_RUN.findall(text) if luhn_valid(run)]
