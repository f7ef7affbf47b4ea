"""Elasticsearch stopped: search answers 503 in the error shape, fast; the rest of the API works."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from shoplake.config import Settings
from shoplake.stack import Stack
from tests.support.search import search_settings


@pytest.mark.stack_lifecycle
def test_search_is_503_and_fast_while_elasticsearch_is_down(settings: Settings) -> None:
    elasticsearch = Stack(settings).service("elasticsearch")
    with TestClient(create_app(search_settings(settings, "test-products-down"))) as client:
        elasticsearch.stop()
        try:
            timings = []
            for _ in range(6):
                began = time.monotonic()
                response = client.get("/v1/search", params={"q": "tent"})
                timings.append(time.monotonic() - began)
                assert response.status_code == 503
                assert response.json()["error"]["code"] == "SEARCH_UNAVAILABLE"
            assert max(timings) < settings.search_timeout_s + 1.0
            assert sorted(timings)[len(timings) // 2] < 0.1  # the open circuit fails fast
            assert client.get("/v1/search/suggest", params={"q": "te"}).status_code == 503
            assert client.get("/v1/categories").status_code == 200
            assert client.get("/readyz").status_code == 200
        finally:
            elasticsearch.start(lambda _message: None)
    with TestClient(create_app(search_settings(settings, "test-products-down"))) as client:
        # A freshly started node may miss the first query's deadline on a loaded machine: the
        # API recovers by itself, within a few tries (the breaker lets one through at a time).
        deadline = time.monotonic() + 60
        status = client.get("/v1/search", params={"q": "tent"}).status_code
        while status != 200 and time.monotonic() < deadline:
            time.sleep(1)
            status = client.get("/v1/search", params={"q": "tent"}).status_code
        assert status == 200
        client.app.state.search.index.drop()  # type: ignore[attr-defined]
