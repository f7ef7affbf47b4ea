"""Search and suggest requests as Elasticsearch bodies (pure functions, tested without ES).

Relevance: the plural-folded query must match `search_text` with every term (fuzziness AUTO
for typos), or one of its synonym rewrites; exact (non-fuzzy) matches and name phrases score
higher; the score is then multiplied by a popularity factor and an availability bonus.
Facets are multi-select: a facet's counts ignore that facet's own filter (post_filter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shoplake.search.facets import FACETABLE_ATTRIBUTES, PRICE_RANGES
from shoplake.search.text import expand, fold

MAX_SUGGESTIONS = 8
FACET_SIZE = 30


class SearchSort(StrEnum):
    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NEWEST = "newest"
    POPULARITY = "popularity"


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    category: str | None = None
    brands: tuple[str, ...] = ()
    price_min: int | None = None
    price_max: int | None = None
    in_stock: bool | None = None
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sort: SearchSort = SearchSort.RELEVANCE
    page: int = 1
    size: int = 20

    def filters(self) -> dict[str, Any]:
        """The filters as the SearchPerformed event records them."""
        out: dict[str, Any] = {}
        if self.category:
            out["category"] = self.category
        if self.brands:
            out["brand"] = list(self.brands)
        if self.price_min is not None:
            out["price_min"] = self.price_min
        if self.price_max is not None:
            out["price_max"] = self.price_max
        if self.in_stock is not None:
            out["in_stock"] = self.in_stock
        out |= {f"attr.{name}": list(values) for name, values in self.attributes.items()}
        if self.sort != SearchSort.RELEVANCE:
            out["sort"] = self.sort.value
        return out


def text_query(q: str) -> dict[str, Any]:
    """Every term of the folded query (or of a synonym rewrite) must match, allowing typos."""
    folded = fold(q)
    variants = expand(folded)
    matches: list[dict[str, Any]] = [
        {
            "match": {
                "search_text": {
                    "query": variant,
                    "operator": "and",
                    "fuzziness": "AUTO",
                    "prefix_length": 0,
                    "boost": 1.0 if n == 0 else 0.8,
                }
            }
        }
        for n, variant in enumerate(variants)
    ]
    return {
        "bool": {
            "must": [{"dis_max": {"queries": matches}}],
            "should": [
                {"match": {"search_text": {"query": folded, "operator": "and", "boost": 2.0}}},
                # the name holding every term (typos allowed) beats a match across fields
                {
                    "dis_max": {
                        "queries": [
                            {
                                "match": {
                                    "name": {
                                        "query": variant,
                                        "operator": "and",
                                        "fuzziness": "AUTO",
                                        "boost": 3.0,
                                    }
                                }
                            }
                            for variant in variants
                        ]
                    }
                },
                {"match_phrase": {"name": {"query": q, "slop": 2, "boost": 2.0}}},
                {"term": {"brand": {"value": q.strip(), "case_insensitive": True, "boost": 1.5}}},
            ],
        }
    }


def _facet_filters(params: SearchParams) -> dict[str, dict[str, Any]]:
    """Filters that belong to a facet, by facet name (they go in the post_filter)."""
    filters: dict[str, dict[str, Any]] = {}
    if params.brands:
        filters["brand"] = {
            "bool": {
                "should": [
                    {"term": {"brand": {"value": brand, "case_insensitive": True}}}
                    for brand in params.brands
                ],
                "minimum_should_match": 1,
            }
        }
    if params.category:
        filters["category"] = {"term": {"category_paths": params.category.strip("/").lower()}}
    if params.price_min is not None or params.price_max is not None:
        bounds: dict[str, int] = {}
        if params.price_min is not None:
            bounds["gte"] = params.price_min
        if params.price_max is not None:
            bounds["lte"] = params.price_max
        filters["price"] = {"range": {"price_cents": bounds}}
    for name, values in params.attributes.items():
        filters[f"attr.{name}"] = {"terms": {f"facets.{name}": list(values)}}
    return filters


def _aggregations(facet_filters: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def others(facet: str) -> dict[str, Any]:
        return {"bool": {"filter": [f for name, f in facet_filters.items() if name != facet]}}

    facets: dict[str, dict[str, Any]] = {
        "brand": {"terms": {"field": "brand", "size": FACET_SIZE}},
        "category": {"terms": {"field": "category_paths", "size": FACET_SIZE}},
        "price": {
            "range": {
                "field": "price_cents",
                "keyed": False,
                "ranges": [
                    {
                        "key": r.key,
                        **({"from": r.from_cents} if r.from_cents is not None else {}),
                        **({"to": r.to_cents} if r.to_cents is not None else {}),
                    }
                    for r in PRICE_RANGES
                ],
            }
        },
    }
    for name in FACETABLE_ATTRIBUTES:
        facets[f"attr.{name}"] = {"terms": {"field": f"facets.{name}", "size": FACET_SIZE}}
    return {name: {"filter": others(name), "aggs": {"values": agg}} for name, agg in facets.items()}


SORTS: dict[SearchSort, list[Any]] = {
    SearchSort.RELEVANCE: ["_score", {"popularity": "desc"}, {"sku": "asc"}],
    SearchSort.PRICE_ASC: [{"price_cents": "asc"}, {"sku": "asc"}],
    SearchSort.PRICE_DESC: [{"price_cents": "desc"}, {"sku": "asc"}],
    SearchSort.NEWEST: [{"created_at": "desc"}, {"sku": "asc"}],
    SearchSort.POPULARITY: [{"popularity": "desc"}, "_score", {"sku": "asc"}],
}


def search_body(params: SearchParams) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [{"term": {"status": "active"}}]
    if params.in_stock is not None:
        filters.append({"term": {"in_stock": params.in_stock}})
    query: dict[str, Any] = {"bool": {"filter": filters}}
    if params.q.strip():
        query["bool"]["must"] = [text_query(params.q)]
    facet_filters = _facet_filters(params)
    body: dict[str, Any] = {
        "query": {
            "function_score": {
                "query": query,
                "functions": [
                    {"weight": 1},
                    {
                        "field_value_factor": {
                            "field": "popularity",
                            "modifier": "log1p",
                            "factor": 0.5,
                            "missing": 0,
                        }
                    },
                    {"filter": {"term": {"in_stock": True}}, "weight": 0.5},
                ],
                "score_mode": "sum",
                "boost_mode": "multiply",
            }
        },
        "aggs": _aggregations(facet_filters),
        "sort": SORTS[params.sort],
        "from": (params.page - 1) * params.size,
        "size": params.size,
        "track_total_hits": True,
        "_source": [
            "sku",
            "name",
            "brand",
            "category_path",
            "price_cents",
            "currency",
            "in_stock",
            "image_urls",
            "popularity",
        ],
    }
    if facet_filters:
        body["post_filter"] = {"bool": {"filter": list(facet_filters.values())}}
    return body


def suggest_body(prefix: str, size: int = MAX_SUGGESTIONS) -> dict[str, Any]:
    completion: dict[str, Any] = {"field": "suggest", "size": size, "skip_duplicates": True}
    if len(prefix.strip()) >= 4:
        completion["fuzzy"] = {"fuzziness": "AUTO", "prefix_length": 1}
    return {
        "_source": False,
        "suggest": {"products": {"prefix": prefix.lower(), "completion": completion}},
    }
