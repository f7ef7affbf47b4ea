"""Elasticsearch: index documents and find them with the official client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from shoplake.config import Settings


@pytest.fixture
def es(settings: Settings) -> Iterator[Elasticsearch]:
    client = Elasticsearch(settings.elasticsearch_endpoint, request_timeout=30)
    yield client
    client.close()


def test_index_search_and_aggregate(es: Elasticsearch, unique: str) -> None:
    index = f"test-products-{unique}"
    es.indices.create(
        index=index,
        settings={"number_of_shards": 1, "number_of_replicas": 0},
        mappings={
            "properties": {
                "sku": {"type": "keyword"},
                "name": {"type": "text"},
                "brand": {"type": "keyword"},
                "price_cents": {"type": "long"},
            }
        },
    )
    try:
        docs = [
            ("SKU-1", "trail running shoes", "acme", 8999),
            ("SKU-2", "road running shoes", "acme", 12999),
            ("SKU-3", "wool hiking socks", "yeti", 1499),
        ]
        for sku, name, brand, price in docs:
            es.index(
                index=index,
                id=sku,
                document={"sku": sku, "name": name, "brand": brand, "price_cents": price},
            )
        es.indices.refresh(index=index)

        result = es.search(
            index=index,
            query={"match": {"name": {"query": "runing shoes", "fuzziness": "AUTO"}}},
            aggs={"brands": {"terms": {"field": "brand"}}},
        )
        found = {hit["_id"] for hit in result["hits"]["hits"]}
        assert found == {"SKU-1", "SKU-2"}
        buckets = {b["key"]: b["doc_count"] for b in result["aggregations"]["brands"]["buckets"]}
        assert buckets == {"acme": 2}

        cheap = es.search(index=index, query={"range": {"price_cents": {"lt": 2000}}})
        assert [hit["_id"] for hit in cheap["hits"]["hits"]] == ["SKU-3"]
    finally:
        es.indices.delete(index=index)
