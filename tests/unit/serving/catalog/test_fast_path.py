"""Which requests the catalogue's fast path may answer (pure logic: no Redis, no app)."""

from __future__ import annotations

from typing import Any

import pytest

from serving.catalog.fast_path import ROUTE, CachedProductReads


def _scope(path: str, method: str = "GET", **extra: Any) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "headers": [], **extra}


def test_an_anonymous_get_of_a_well_formed_sku_is_the_fast_paths() -> None:
    assert CachedProductReads._sku_of(_scope("/v1/products/SKU-1.a_b")) == "SKU-1.a_b"


@pytest.mark.parametrize(
    "scope",
    [
        _scope("/v1/products/SKU-1", method="HEAD"),
        _scope("/v1/products/SKU-1", method="PATCH"),
        _scope("/v1/products"),
        _scope("/v1/products/"),
        _scope("/v1/products/SKU-1/similar"),
        _scope("/v1/products/-leading-dash"),
        _scope("/v1/products/SKU-1\n"),
        _scope("/v1/products/" + "x" * 65),
        _scope("/v1/admin/products/SKU-1"),
        _scope("/v1/products/SKU-1", headers=[(b"authorization", b"Bearer t")]),
        _scope("/v1/products/SKU-1", root_path="/shop"),
        {"type": "websocket", "path": "/v1/products/SKU-1", "headers": []},
    ],
    ids=[
        "head",
        "patch",
        "listing",
        "empty-sku",
        "sub-resource",
        "bad-sku",
        "trailing-newline",
        "too-long",
        "admin",
        "token",
        "mounted",
        "websocket",
    ],
)
def test_everything_else_goes_on_to_the_route(scope: dict[str, Any]) -> None:
    assert CachedProductReads._sku_of(scope) is None


def test_its_answers_are_counted_under_the_routes_template() -> None:
    assert ROUTE.path == "/v1/products/{sku}"
