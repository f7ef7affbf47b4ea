"""GET /v1/search and /v1/search/suggest against the real Elasticsearch, on a demo catalog."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shoplake.events import CloudEvent
from shoplake.search.adapter import ProductIndex
from shoplake.search.facets import FACETABLE_ATTRIBUTES
from tests.support.search import CATALOG_SIZE, demo_products


def test_mapping_is_strict_and_facets_are_keywords(seeded: ProductIndex) -> None:
    (index,) = seeded.indices()
    mapping = seeded.client.indices.get_mapping(index=index)[index]["mappings"]
    assert mapping["dynamic"] == "strict"
    props = mapping["properties"]
    assert {props["facets"]["properties"][n]["type"] for n in FACETABLE_ATTRIBUTES} == {"keyword"}
    assert props["suggest"]["type"] == "completion"
    assert props["attributes"]["type"] == "flattened"
    assert "index_prefixes" in props["name"]
    assert seeded.count() == CATALOG_SIZE


def test_facet_counts_match_the_catalog(search_client: TestClient) -> None:
    products = demo_products()
    response = search_client.get("/v1/search", params={"category": "apparel", "size": 5})
    assert response.status_code == 200, response.text
    page = response.json()
    apparel = [p for p in products if p.category_path[0] == "apparel"]
    assert page["total"] == len(apparel)
    brands = {f["value"]: f["count"] for f in page["facets"]["brand"]}
    assert brands == dict(Counter(p.brand for p in apparel))
    colors = {f["value"]: f["count"] for f in page["facets"]["attributes"]["color"]}
    assert colors == dict(Counter(p.attributes["color"] for p in apparel))
    # multi-select: filtering on a brand narrows the hits, not the brand facet itself
    one_brand = next(iter(brands))
    narrowed = search_client.get(
        "/v1/search", params={"category": "apparel", "brand": one_brand}
    ).json()
    assert narrowed["total"] == brands[one_brand]
    assert {f["value"]: f["count"] for f in narrowed["facets"]["brand"]} == brands
    assert {h["brand"] for h in narrowed["items"]} == {one_brand}


def test_attribute_and_price_filters(search_client: TestClient) -> None:
    page = search_client.get(
        "/v1/search",
        params={"category": "shoes/running", "attr.color": "blue", "price_max": 15_000},
    ).json()
    expected = [
        p
        for p in demo_products()
        if p.category_path == ["shoes", "running"]
        and p.attributes["color"] == "blue"
        and p.price_cents <= 15_000
    ]
    assert page["total"] == len(expected) > 0
    assert sum(b["count"] for b in page["facets"]["price"]) == len(
        [
            p
            for p in demo_products()
            if p.category_path == ["shoes", "running"] and p.attributes["color"] == "blue"
        ]
    )


def test_a_typo_and_a_synonym_find_the_product(search_client: TestClient) -> None:
    typo = search_client.get("/v1/search", params={"q": "hikng boots"}).json()
    assert typo["total"] > 0
    assert "hiking boot" in typo["items"][0]["name"]
    assert all(item["category_path"] == ["shoes", "hiking"] for item in typo["items"])
    synonym = search_client.get("/v1/search", params={"q": "rucksack"}).json()
    assert synonym["items"] and all(
        item["category_path"] == ["outdoor", "backpacks"] for item in synonym["items"]
    )
    nothing = search_client.get("/v1/search", params={"q": "xylophone"}).json()
    assert nothing["total"] == 0 and nothing["items"] == []


def test_sort_by_price_and_newest(search_client: TestClient) -> None:
    by_price = search_client.get("/v1/search", params={"q": "jacket", "sort": "price_asc"}).json()
    prices = [item["price_cents"] for item in by_price["items"]]
    assert prices == sorted(prices) and len(prices) > 1
    newest = search_client.get("/v1/search", params={"sort": "newest", "size": 1}).json()
    assert newest["items"][0]["sku"] == demo_products()[-1].sku


def test_suggest_completes_a_prefix(search_client: TestClient) -> None:
    answer = search_client.get("/v1/search/suggest", params={"q": "trail"}).json()
    assert 0 < len(answer["suggestions"]) < 10
    assert all(s.lower().startswith("trail") for s in answer["suggestions"])
    fuzzy = search_client.get("/v1/search/suggest", params={"q": "hikin"}).json()
    assert any("hiking" in s.lower() for s in fuzzy["suggestions"])


def test_every_search_emits_search_performed(
    search_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[CloudEvent] = []
    monkeypatch.setattr(search_client.app.state.behaviour, "publish", published.append)  # type: ignore[attr-defined]
    search_client.get("/v1/search", params={"q": "xylophone", "brand": "Stride"})
    search_client.get("/v1/search", params={"q": "tent"}, headers={"X-Session-Id": "s-1"})
    assert [e.type for e in published] == ["shop.behaviour.SearchPerformed.v1"] * 2
    first: dict[str, Any] = published[0].data
    assert first["zero_results"] is True and first["filters"] == {"brand": ["Stride"]}
    assert published[1].data["session_id"] == "s-1" and published[1].data["result_count"] > 0


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 201},
        {"page": 0},
        {"size": 51},
        {"attr.flavour": "mint"},
        {"price_min": 500, "price_max": 100},
        {"price_min": -1},
        {"page": 5000, "size": 50},
        {"sort": "random"},
        {"category": "../etc"},
    ],
)
def test_bad_input_is_a_422(search_client: TestClient, params: dict[str, Any]) -> None:
    response = search_client.get("/v1/search", params=params)
    assert response.status_code == 422, response.text
    assert "code" in response.json()["error"]


def test_odd_text_is_searched_not_refused(search_client: TestClient) -> None:
    for q in ['"', "\\", "a:b AND (", "\u00e9t\u00e9 \u2603", "*"]:
        response = search_client.get("/v1/search", params={"q": q})
        assert response.status_code == 200, (q, response.text)
    assert search_client.get("/v1/search/suggest", params={"q": ""}).status_code == 422
