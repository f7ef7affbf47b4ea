"""Search relevance on the demo catalog: NDCG@10 and the zero-result rate over a judgment list.

The judgment list is built in code from the generator's structure (demo.catalog):
plain nouns, brand + noun, noun + colour, typos of nouns, shopper synonyms, and queries that
must find nothing. A product is relevant (grade 1) when its name holds every required phrase.
The query sent is exactly the API's (shoplake.search.query.search_body), straight to ES.

    .venv/bin/python -m benchmarks.search_relevance [--count 2000]
"""

from __future__ import annotations

import argparse
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.harness import write_result
from demo.catalog import CATEGORIES, DemoProduct, generate
from shoplake.config import get_settings
from shoplake.search.adapter import ProductIndex, make_client
from shoplake.search.documents import IndexedProduct
from shoplake.search.query import SearchParams, search_body
from spark_jobs.search_reindex import build

K = 10


@dataclass(frozen=True)
class Judgment:
    query: str
    kind: str
    # a product is relevant when its lowercased name contains every phrase of one alternative
    any_of: tuple[tuple[str, ...], ...]


def _typo(word: str) -> str:
    """Drop the third letter: 'hiking' -> 'hikng' (one edit, what fuzziness AUTO forgives)."""
    return word[:2] + word[3:] if len(word) > 4 else word


def judgments() -> list[Judgment]:
    out: list[Judgment] = []
    for nouns, brands, _prices, facets in CATEGORIES.values():
        for noun in nouns:
            out.append(Judgment(noun, "noun", ((noun,),)))
        out.append(
            Judgment(f"{brands[0]} {nouns[0]}", "brand+noun", ((brands[0].lower(), nouns[0]),))
        )
        if "color" in facets:
            colour = facets["color"][0]
            out.append(Judgment(f"{colour} {nouns[-1]}", "noun+colour", ((nouns[-1], colour),)))
        longest = max(nouns[0].split(), key=len)
        out.append(Judgment(nouns[0].replace(longest, _typo(longest)), "typo", ((nouns[0],),)))
    synonyms = {
        "sneakers": (("running shoe",), ("trail runner",)),
        "rucksack": (("backpack",), ("pack",)),
        "earphones": (("earbuds",), ("headphones",)),
        "raincoat": (("rain jacket",),),
        "parka": (("down jacket",),),
        "torch": (("headlamp",),),
        "skillet": (("pan",),),
        "teapot": (("kettle",),),
        "tee": (("t-shirt",), ("tee",)),
        "trekking boots": (("trekking boot",), ("hiking boot",)),
        "headset": (("headphones",),),
        "puffer coat": (("down jacket",),),
        "flashlight": (("headlamp",),),
    }
    out += [Judgment(q, "synonym", alts) for q, alts in synonyms.items()]
    for q in ("xylophone", "lawn mower", "snorkel mask", "guitar strings", "baby stroller"):
        out.append(Judgment(q, "zero", ()))
    return out


def relevant(product: DemoProduct, judgment: Judgment) -> bool:
    name = product.name.lower()
    return any(all(phrase in name for phrase in alt) for alt in judgment.any_of)


def ndcg(ranked: list[bool], total_relevant: int) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, rel in enumerate(ranked[:K]) if rel)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(K, total_relevant)))
    return dcg / ideal if ideal else 0.0


def evaluate(index: ProductIndex, products: list[DemoProduct]) -> dict[str, Any]:
    by_sku = {p.sku: p for p in products}
    per_kind: dict[str, list[float]] = {}
    zero_when_expected = 0
    expected_results = 0
    false_hits = 0
    worst: list[tuple[float, str]] = []
    for judgment in judgments():
        answer = index.search(search_body(SearchParams(q=judgment.query, size=K)))
        skus = [hit["_id"] for hit in answer["hits"]["hits"]]
        total = answer["hits"]["total"]["value"]
        if judgment.kind == "zero":
            false_hits += total > 0
            continue
        expected_results += 1
        zero_when_expected += total == 0
        n_relevant = sum(relevant(p, judgment) for p in products)
        score = ndcg([relevant(by_sku[s], judgment) for s in skus], n_relevant)
        per_kind.setdefault(judgment.kind, []).append(score)
        worst.append((score, judgment.query))
    scores = [s for values in per_kind.values() for s in values]
    zero_queries = len([j for j in judgments() if j.kind == "zero"])
    return {
        "queries": len(judgments()),
        "ndcg_at_10": round(sum(scores) / len(scores), 4),
        "ndcg_at_10_by_kind": {k: round(sum(v) / len(v), 4) for k, v in per_kind.items()},
        "zero_result_rate": round(zero_when_expected / expected_results, 4),
        "zero_result_queries_answered_empty": f"{zero_queries - false_hits}/{zero_queries}",
        "worst": sorted(worst)[:5],
    }


def demo_index_products(products: list[DemoProduct]) -> list[IndexedProduct]:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        IndexedProduct(
            **vars(p),
            status="active",
            version=1,
            created_at=t0 + timedelta(minutes=n),
            updated_at=t0 + timedelta(minutes=n),
        )
        for n, p in enumerate(products)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    settings = get_settings()
    client = make_client(settings, timeout_s=60)
    index = ProductIndex(client, f"bench-relevance-{uuid.uuid4().hex[:8]}")
    products = generate(args.count)
    try:
        build(index, demo_index_products(products), source="demo")
        figures = evaluate(index, products)
    finally:
        index.drop()
        client.close()
    write_result("search_relevance", {"catalog_size": args.count, **figures})


if __name__ == "__main__":
    main()
