"""Catalog over HTTP: admin writes with their outbox events, cached reads, listing, categories."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.catalog import service as catalog
from serving.outbox import OutboxRelay, drain
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events import CloudEvent, EventData, parse_data
from shoplake.events.catalog import (
    PriceChanged,
    ProductCreated,
    ProductDiscontinued,
    ProductUpdated,
)
from shoplake.outbox import outbox
from streaming import cache_invalidator
from tests.support.callers import Caller


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings, pool_size=2)
    yield engine
    engine.dispose()


def _sku() -> str:
    return f"T-{uuid.uuid4().hex[:8]}"


def _body(sku: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": sku,
        "name": "Trail runner",
        "description": "A light shoe",
        "brand": "Acme",
        "category_path": ["shoes", "running"],
        "price_cents": 12_999,
        "currency": "EUR",
        "attributes": {"color": "red", "sizes": [41, 42]},
        "image_urls": ["https://img.example.com/1.jpg"],
        "status": "active",
    }
    return {**body, **overrides}


def _create(client: TestClient, admin: Caller, **overrides: Any) -> dict[str, Any]:
    sku = overrides.pop("sku", None) or _sku()
    response = client.post(
        "/v1/admin/products", json=_body(sku, **overrides), headers=admin.headers
    )
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


def _events(engine: Engine, sku: str) -> list[EventData]:
    """The catalog events in the outbox for this sku, in the order they were written; each one
    is parsed with the event contract (a malformed payload fails the test)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.event_id, outbox.c.event_type, outbox.c.topic, outbox.c.payload)
            .where(outbox.c.key == sku)
            .order_by(outbox.c.id)
        ).all()
    events = []
    for row in rows:
        envelope = CloudEvent.model_validate(row.payload)
        assert envelope.id == row.event_id and envelope.type == row.event_type
        assert row.topic == "shop.catalog.v1" and envelope.subject == sku
        events.append(parse_data(envelope))
    return events


# Writes and their events ---------------------------------------------------------------------


def test_create_returns_the_product_and_records_product_created(
    client: TestClient, admin: Caller, engine: Engine
) -> None:
    sku = _sku()
    response = client.post("/v1/admin/products", json=_body(sku), headers=admin.headers)

    assert response.status_code == 201, response.text
    product = response.json()
    assert product["sku"] == sku and product["version"] == 1
    assert product["price_cents"] == 12_999 and product["attributes"]["sizes"] == [41, 42]
    [event] = _events(engine, sku)
    assert isinstance(event, ProductCreated)
    assert event.version == 1 and event.price_cents == 12_999 and event.status == "active"
    assert event.category_path == ["shoes", "running"] and event.attributes["color"] == "red"


def test_a_duplicate_sku_is_a_conflict_and_records_nothing(
    client: TestClient, admin: Caller, engine: Engine
) -> None:
    product = _create(client, admin)
    response = client.post(
        "/v1/admin/products", json=_body(product["sku"], name="Other"), headers=admin.headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "PRODUCT_EXISTS"
    assert len(_events(engine, product["sku"])) == 1
    assert client.get(f"/v1/products/{product['sku']}").json()["name"] == "Trail runner"


@pytest.mark.parametrize(
    "change",
    [
        {"sku": "has space"},
        {"sku": "-leading-dash"},
        {"price_cents": -1},
        {"price_cents": 12.5},
        {"currency": "eur"},
        {"category_path": []},
        {"category_path": ["Shoes"]},
        {"name": ""},
        {"status": "deleted"},
        {"unexpected": 1},
    ],
)
def test_invalid_products_are_refused_with_422(
    client: TestClient, admin: Caller, change: dict[str, Any]
) -> None:
    response = client.post(
        "/v1/admin/products", json={**_body(_sku()), **change}, headers=admin.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


def test_admin_routes_need_a_token_and_the_admin_role(
    client: TestClient, admin: Caller, customer: Caller
) -> None:
    sku = _create(client, admin)["sku"]
    replacement = {k: v for k, v in _body(sku, name="X").items() if k != "sku"}
    calls = [
        ("POST", "/v1/admin/products", _body(_sku())),
        ("PUT", f"/v1/admin/products/{sku}", replacement),
        ("PATCH", f"/v1/admin/products/{sku}", {"name": "X"}),
        ("DELETE", f"/v1/admin/products/{sku}", None),
    ]
    for method, url, body in calls:
        anonymous = client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, anonymous.text)
        assert anonymous.json()["error"]["code"] == "NOT_AUTHENTICATED"
        forbidden = client.request(method, url, json=body, headers=customer.headers)
        assert forbidden.status_code == 403, (method, forbidden.text)
        assert forbidden.json()["error"]["code"] == "FORBIDDEN"
    after = client.get(f"/v1/products/{sku}").json()
    assert after["name"] == "Trail runner" and after["status"] == "active"


def test_patch_of_the_price_bumps_the_version_and_records_updated_and_price_changed(
    client: TestClient, admin: Caller, engine: Engine
) -> None:
    sku = _create(client, admin)["sku"]
    response = client.patch(
        f"/v1/admin/products/{sku}", json={"price_cents": 9_999}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["price_cents"] == 9_999 and response.json()["version"] == 2
    created, updated, price = _events(engine, sku)
    assert isinstance(created, ProductCreated)
    assert isinstance(updated, ProductUpdated)
    assert updated.version == 2 and updated.changed == ["price_cents"]
    assert updated.price_cents == 9_999 and updated.name == "Trail runner"  # full state
    assert isinstance(price, PriceChanged)
    assert (price.version, price.old_price_cents, price.new_price_cents) == (2, 12_999, 9_999)


def test_put_replaces_every_field_and_names_what_changed(
    client: TestClient, admin: Caller, engine: Engine
) -> None:
    sku = _create(client, admin)["sku"]
    replacement = _body(sku, name="Road runner", category_path=["shoes", "road"])
    del replacement["sku"]
    response = client.put(f"/v1/admin/products/{sku}", json=replacement, headers=admin.headers)

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Road runner" and response.json()["version"] == 2
    events = _events(engine, sku)
    assert [type(event) for event in events] == [ProductCreated, ProductUpdated]  # same price
    updated = events[1]
    assert isinstance(updated, ProductUpdated)
    assert updated.changed == ["name", "category_path"]
    tree = client.get("/v1/categories").json()
    shoes = next(node for node in tree if node["path"] == "shoes")
    assert {"shoes/road", "shoes/running"} <= {child["path"] for child in shoes["children"]}


def test_a_write_that_changes_nothing_keeps_the_version_and_records_nothing(
    client: TestClient, admin: Caller, engine: Engine
) -> None:
    sku = _create(client, admin)["sku"]
    response = client.patch(
        f"/v1/admin/products/{sku}", json={"name": "Trail runner"}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert len(_events(engine, sku)) == 1


def test_patch_refuses_nulls_unknown_products_bad_skus_and_stale_versions(
    client: TestClient, admin: Caller
) -> None:
    sku = _create(client, admin)["sku"]
    null = client.patch(f"/v1/admin/products/{sku}", json={"name": None}, headers=admin.headers)
    assert null.status_code == 422
    unknown = client.patch(
        f"/v1/admin/products/{_sku()}", json={"name": "X"}, headers=admin.headers
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT_FOUND"
    bad_sku = client.patch(
        "/v1/admin/products/bad%20sku", json={"name": "X"}, headers=admin.headers
    )
    assert bad_sku.status_code == 422
    stale = client.patch(
        f"/v1/admin/products/{sku}",
        json={"name": "X"},
        headers={**admin.headers, "If-Match": '"7"'},
    )
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "VERSION_MISMATCH"
    current = client.patch(
        f"/v1/admin/products/{sku}",
        json={"name": "X"},
        headers={**admin.headers, "If-Match": '"1"'},
    )
    assert current.status_code == 200 and current.json()["version"] == 2


def test_delete_discontinues_once_and_records_product_discontinued(
    client: TestClient, admin: Caller, engine: Engine
) -> None:
    sku = _create(client, admin)["sku"]
    first = client.delete(f"/v1/admin/products/{sku}", headers=admin.headers)
    again = client.delete(f"/v1/admin/products/{sku}", headers=admin.headers)
    unknown = client.delete(f"/v1/admin/products/{_sku()}", headers=admin.headers)

    assert (first.status_code, again.status_code, unknown.status_code) == (204, 204, 404)
    product = client.get(f"/v1/products/{sku}").json()
    assert product["status"] == "discontinued" and product["version"] == 2
    _created, discontinued = _events(engine, sku)  # the second delete recorded nothing
    assert isinstance(discontinued, ProductDiscontinued) and discontinued.version == 2


# Reads and the cache -------------------------------------------------------------------------


def test_get_answers_404_for_unknown_and_422_for_malformed_skus(client: TestClient) -> None:
    unknown = client.get(f"/v1/products/{_sku()}")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT_FOUND"
    assert client.get("/v1/products/" + "x" * 65).status_code == 422
    assert client.get("/v1/products/%E2%82%AC").status_code == 422


def test_drafts_are_visible_to_admins_only(
    client: TestClient, admin: Caller, customer: Caller
) -> None:
    sku = _create(client, admin, status="draft")["sku"]
    assert client.get(f"/v1/products/{sku}").status_code == 404
    assert client.get(f"/v1/products/{sku}", headers=customer.headers).status_code == 404
    as_admin = client.get(f"/v1/products/{sku}", headers=admin.headers)
    assert as_admin.status_code == 200 and as_admin.json()["status"] == "draft"
    assert as_admin.headers["ETag"] == '"1"'


def test_reads_go_through_the_cache_and_a_write_drops_the_entry(
    client: TestClient, admin: Caller, redis_client: redis.Redis, api_settings: Settings
) -> None:
    sku = _create(client, admin)["sku"]
    key = f"product:{sku}"
    assert redis_client.get(key) is None
    client.get(f"/v1/products/{sku}")
    cached = redis_client.get(key)
    assert cached is not None and json.loads(str(cached))["sku"] == sku
    ttl = int(redis_client.ttl(key))  # type: ignore[arg-type]
    assert 0 < ttl <= api_settings.product_cache_ttl_s

    # A read served from the cache returns what the cache holds, not what Postgres holds.
    redis_client.set(key, json.dumps({**json.loads(str(cached)), "name": "From the cache"}))
    assert client.get(f"/v1/products/{sku}").json()["name"] == "From the cache"

    client.patch(f"/v1/admin/products/{sku}", json={"name": "Renamed"}, headers=admin.headers)
    assert redis_client.get(key) is None
    assert client.get(f"/v1/products/{sku}").json()["name"] == "Renamed"


def test_the_fast_path_answers_a_cache_hit_as_the_route_does(
    client: TestClient, admin: Caller, customer: Caller, redis_client: redis.Redis
) -> None:
    """Anonymous hits are answered before routing (serving/catalog/fast_path.py); a caller
    with a token takes the route. Both must send the same answer."""
    sku = _create(client, admin)["sku"]
    key = f"product:{sku}"
    client.get(f"/v1/products/{sku}")  # fills the cache
    # An entry only the cache holds shows which read answered: both must be served from it.
    cached = json.loads(str(redis_client.get(key)))
    redis_client.set(key, json.dumps({**cached, "name": "Only in the cache"}))
    anonymous = client.get(f"/v1/products/{sku}")
    signed_in = client.get(f"/v1/products/{sku}", headers=customer.headers)
    assert anonymous.status_code == signed_in.status_code == 200
    assert anonymous.content == signed_in.content
    assert anonymous.json()["name"] == "Only in the cache"
    for header in ("etag", "content-type", "content-length", "x-content-type-options"):
        assert anonymous.headers[header] == signed_in.headers[header], header
    assert anonymous.headers["x-request-id"]  # the app's middlewares still wrap the answer
    # A draft in the cache is not the fast path's to answer: the route's 404 stands.
    redis_client.set(key, json.dumps({**cached, "status": "draft"}))
    assert client.get(f"/v1/products/{sku}").status_code == 404


def test_an_unreadable_cache_entry_falls_back_to_postgres(
    client: TestClient, admin: Caller, redis_client: redis.Redis
) -> None:
    sku = _create(client, admin)["sku"]
    redis_client.set(f"product:{sku}", "{not json")
    response = client.get(f"/v1/products/{sku}")
    assert response.status_code == 200 and response.json()["name"] == "Trail runner"


def test_get_products_reads_a_batch_cache_first_and_omits_unknown_skus(
    client: TestClient,
    admin: Caller,
    engine: Engine,
    redis_client: redis.Redis,
    api_settings: Settings,
) -> None:
    first = _create(client, admin)["sku"]
    second = _create(client, admin, status="discontinued")["sku"]
    missing = _sku()
    with engine.connect() as conn:
        products = catalog.get_products(
            conn, redis_client, api_settings, [first, second, missing, first]
        )
    assert set(products) == {first, second}
    assert products[second].status == "discontinued"
    assert redis_client.exists(f"product:{first}", f"product:{second}") == 2
    assert redis_client.exists(f"product:{missing}") == 0


def test_the_invalidator_drops_a_stale_entry_when_the_catalog_event_arrives(
    client: TestClient,
    admin: Caller,
    engine: Engine,
    redis_client: redis.Redis,
    api_settings: Settings,
) -> None:
    sku = _create(client, admin)["sku"]
    client.patch(f"/v1/admin/products/{sku}", json={"price_cents": 500}, headers=admin.headers)
    # Another replica refilled the cache with the old row just before the commit.
    stale = client.get(f"/v1/products/{sku}").json() | {"price_cents": 12_999, "version": 1}
    redis_client.set(f"product:{sku}", json.dumps(stale))

    drain(OutboxRelay(api_settings, engine))
    handled = cache_invalidator.run(
        api_settings,
        stop_after_idle_s=2.0,
        group_id=f"test-invalidator-{uuid.uuid4().hex[:8]}",
        from_beginning=True,
    )

    assert handled >= 2  # at least this product's ProductUpdated and PriceChanged
    assert redis_client.get(f"product:{sku}") is None
    assert client.get(f"/v1/products/{sku}").json()["price_cents"] == 500


# Listing -------------------------------------------------------------------------------------


def _walk(client: TestClient, params: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    """Every page of the listing; the items in order and the number of pages."""
    items: list[dict[str, Any]] = []
    pages = 0
    cursor: str | None = None
    while True:
        response = client.get(
            "/v1/products",
            params={**params, **({"cursor": cursor} if cursor else {})},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 50, "the listing never ends"


@pytest.fixture(scope="module")
def listed(client: TestClient, admin: Caller) -> list[dict[str, Any]]:
    """Eight active products of one brand, with ties in price and name, in two categories."""
    brand = f"Brand-{uuid.uuid4().hex[:8]}"
    prefix = f"L{uuid.uuid4().hex[:8]}"
    shapes = [
        ("b", 300, ["shoes", "running"]),
        ("a", 100, ["shoes", "running", "trail"]),
        ("c", 300, ["shoes", "road"]),
        ("a", 200, ["shoes", "running"]),
        ("d", 300, ["bags"]),
        ("b", 100, ["shoes"]),
        ("e", 500, ["running"]),
        ("a", 300, ["shoes", "running"]),
    ]
    products = [
        _create(
            client,
            admin,
            sku=f"{prefix}{n:02d}",
            brand=brand,
            name=name,
            price_cents=price,
            category_path=path,
        )
        for n, (name, price, path) in enumerate(shapes)
    ]
    _create(client, admin, sku=f"{prefix}98", brand=brand, status="draft")
    _create(client, admin, sku=f"{prefix}99", brand=brand, status="discontinued")
    return products


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("newest", lambda p: (p["created_at"], p["sku"]), True),
        ("price_asc", lambda p: (p["price_cents"], p["sku"]), False),
        ("price_desc", lambda p: (p["price_cents"], p["sku"]), True),
        ("name", lambda p: (p["name"], p["sku"]), False),
    ],
)
@pytest.mark.parametrize("limit", [1, 3, 8, 100])
def test_walking_every_page_returns_each_product_once_in_a_stable_order(
    client: TestClient,
    listed: list[dict[str, Any]],
    sort: str,
    key: Any,
    reverse: bool,
    limit: int,
) -> None:
    items, pages = _walk(client, {"brand": listed[0]["brand"], "sort": sort, "limit": limit})

    skus = [item["sku"] for item in items]
    assert len(skus) == len(set(skus)) == 8  # no duplicates, no gaps, no drafts or discontinued
    assert skus == [p["sku"] for p in sorted(listed, key=key, reverse=reverse)]
    assert pages == -(-8 // limit)  # a full last page is not followed by an empty one
    assert all(item["status"] == "active" for item in items)


def test_a_full_last_page_ends_the_walk_without_an_empty_page(
    client: TestClient, listed: list[dict[str, Any]]
) -> None:
    response = client.get("/v1/products", params={"brand": listed[0]["brand"], "limit": 8})
    assert len(response.json()["items"]) == 8
    assert response.json()["next_cursor"] is None
    first = client.get("/v1/products", params={"brand": listed[0]["brand"], "limit": 4}).json()
    assert len(first["items"]) == 4 and first["next_cursor"] is not None


def test_the_category_filter_is_a_path_prefix(
    client: TestClient, listed: list[dict[str, Any]]
) -> None:
    brand = listed[0]["brand"]
    running, _ = _walk(client, {"brand": brand, "category": "shoes/running", "sort": "price_asc"})
    shoes, _ = _walk(client, {"brand": brand, "category": "shoes"})
    expected_running = {p["sku"] for p in listed if p["category_path"][:2] == ["shoes", "running"]}
    assert {p["sku"] for p in running} == expected_running and len(expected_running) == 4
    assert {p["sku"] for p in shoes} == {
        p["sku"] for p in listed if p["category_path"][0] == "shoes"
    }
    assert all(p["category_path"] != ["running"] for p in running)  # 'running' alone is no match


def test_only_admins_list_drafts_and_discontinued_products(
    client: TestClient, listed: list[dict[str, Any]], admin: Caller, customer: Caller
) -> None:
    brand = listed[0]["brand"]
    refused = client.get(
        "/v1/products", params={"brand": brand, "status": "draft"}, headers=customer.headers
    )
    assert refused.status_code == 403
    drafts, _ = _walk(client, {"brand": brand, "status": "draft"}, admin.headers)
    gone, _ = _walk(client, {"brand": brand, "status": "discontinued"}, admin.headers)
    assert [p["status"] for p in drafts] == ["draft"]
    assert [p["status"] for p in gone] == ["discontinued"]


def test_bad_listing_parameters_and_foreign_cursors_are_422(
    client: TestClient, listed: list[dict[str, Any]]
) -> None:
    brand = listed[0]["brand"]
    for params in (
        {"limit": 0},
        {"limit": 101},
        {"sort": "popular"},
        {"category": "Shoes/"},
        {"status": "deleted"},
        {"cursor": "garbage"},
    ):
        response = client.get("/v1/products", params={"brand": brand, **params})
        assert response.status_code == 422, (params, response.text)
    cursor = client.get(
        "/v1/products", params={"brand": brand, "sort": "price_asc", "limit": 2}
    ).json()["next_cursor"]
    other_sort = client.get(
        "/v1/products", params={"brand": brand, "sort": "name", "cursor": cursor}
    )
    assert other_sort.status_code == 422
    assert other_sort.json()["error"]["code"] == "INVALID_CURSOR"


def test_categories_form_a_tree_with_every_level_of_a_path(
    client: TestClient, admin: Caller
) -> None:
    root = f"c{uuid.uuid4().hex[:8]}"
    _create(client, admin, category_path=[root, "outdoor-gear", "tents"])
    tree = client.get("/v1/categories").json()

    [node] = [n for n in tree if n["path"] == root]
    assert node["depth"] == 0
    [child] = node["children"]
    assert (child["path"], child["name"], child["depth"]) == (
        f"{root}/outdoor-gear",
        "Outdoor gear",
        1,
    )
    assert [grandchild["path"] for grandchild in child["children"]] == [
        f"{root}/outdoor-gear/tents"
    ]
