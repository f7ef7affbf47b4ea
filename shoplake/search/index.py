"""The product index as code: settings, mappings and versioned index names behind an alias.

Built only from what the core of Elasticsearch offers (the integ-test distribution has no
analysis-common and no mapper-extras; see ARCHITECTURE.md "### Search").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shoplake.search.facets import FACETABLE_ATTRIBUTES

MAPPING_VERSION = 1

SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "refresh_interval": "1s",
    "analysis": {
        "analyzer": {
            # standard tokenizer + lowercase + English stop words: the closest core analyzer to
            # `english` (no stemmer: plurals are folded in Python, see shoplake.search.text).
            "product_text": {"type": "standard", "stopwords": "_english_"},
        },
        "normalizer": {"lowercase": {"type": "custom", "filter": ["lowercase"]}},
    },
}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"mapping_version": MAPPING_VERSION},
    "properties": {
        "sku": {"type": "keyword"},
        "name": {
            "type": "text",
            "analyzer": "product_text",
            # Prefix terms indexed for fast prefix queries (the search-as-you-type fallback).
            "index_prefixes": {"min_chars": 1, "max_chars": 10},
            "fields": {"sort": {"type": "keyword", "normalizer": "lowercase"}},
        },
        "description": {"type": "text", "analyzer": "product_text"},
        # name, brand, categories, description and facet values, plural-folded in Python.
        "search_text": {"type": "text", "analyzer": "product_text"},
        "brand": {"type": "keyword"},
        "category_path": {"type": "keyword"},
        "category_paths": {"type": "keyword"},
        "category_l1": {"type": "keyword"},
        "category_l2": {"type": "keyword"},
        "facets": {
            "properties": {name: {"type": "keyword"} for name in FACETABLE_ATTRIBUTES},
        },
        "attributes": {"type": "flattened"},
        "price_cents": {"type": "long"},
        "currency": {"type": "keyword"},
        "status": {"type": "keyword"},
        "in_stock": {"type": "boolean"},
        # Per-warehouse stock as the inventory events last reported it (not searchable).
        "stock": {"type": "object", "enabled": False},
        "rating": {"type": "float"},
        "popularity": {"type": "float"},
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
        "version": {"type": "long"},
        "image_urls": {"type": "keyword", "index": False},
        "suggest": {"type": "completion", "analyzer": "simple", "max_input_length": 60},
    },
}


def index_body() -> dict[str, Any]:
    return {"settings": SETTINGS, "mappings": MAPPINGS}


def new_index_name(alias: str, now: datetime | None = None) -> str:
    """A fresh versioned index behind `alias`, e.g. products-v1-20261201t101500123456."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dt%H%M%S%f")
    return f"{alias}-v{MAPPING_VERSION}-{stamp}"


def building_alias(alias: str) -> str:
    """The alias that names an index being rebuilt, so the consumer writes to it too."""
    return f"{alias}-building"
