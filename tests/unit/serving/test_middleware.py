"""The app's edge as plain ASGI: body limits, JSON depth, security headers, and the error
boundary (a JSON 503 naming the dependency, or a JSON 500 with a request id), on a small app
without services."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from serving import middleware
from serving.errors import install_error_handlers
from serving.middleware import json_depth
from shoplake.config import Settings


def _app(settings: Settings) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings
    install_error_handlers(app)
    middleware.install(app, settings)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"bytes": len(body)}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug, with a secret parameter 4242424242424242")

    @app.get("/db-down")
    def db_down() -> None:
        raise sa.exc.OperationalError("select 1", {}, Exception("connection refused"))

    @app.get("/redis-down")
    def redis_down() -> None:
        raise redis.ConnectionError("Connection refused")

    @app.get("/v1/users/me")
    def personal() -> dict[str, str]:
        return {"email": "ada@example.com"}

    return app


@pytest.fixture
def client() -> TestClient:
    settings = Settings(api_max_body_bytes=4096, api_max_json_depth=8)
    return TestClient(_app(settings), raise_server_exceptions=False)


def test_json_depth_skips_strings() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(b'"just a string"') == 0
    assert json_depth(b"[" * 300 + b"]" * 300) == 300


def test_a_body_over_the_limit_is_a_413_in_the_error_shape(client: TestClient) -> None:
    response = client.post("/echo", content=b"x" * 5000, headers={"content-type": "text/plain"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"

    def chunks() -> Any:  # no Content-Length: counted while it streams
        for _ in range(10):
            yield b"y" * 1000

    streamed = client.post("/echo", content=chunks())
    assert streamed.status_code == 413
    assert client.post("/echo", content=b"z" * 4000).json() == {"bytes": 4000}


def test_json_nested_too_deep_is_a_422_before_any_parser_sees_it(client: TestClient) -> None:
    deep = "[" * 256 + "]" * 256
    response = client.post("/echo", content=deep, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"
    shallow = json.dumps({"a": [[1]]})
    ok = client.post("/echo", content=shallow, headers={"content-type": "application/json"})
    assert ok.status_code == 200


def test_an_unexpected_error_is_a_json_500_with_a_request_id_and_one_log_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="shoplake.serving.errors"):
        response = client.get("/boom", headers={"X-Request-Id": "req-123"})
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "INTERNAL"
    assert body["error"]["details"] == {"request_id": "req-123"}
    assert response.headers["x-request-id"] == "req-123"
    assert "4242" not in response.text  # never the exception's text
    lines = [json.loads(r.getMessage()) for r in caplog.records]
    assert len(lines) == 1
    assert lines[0]["request_id"] == "req-123" and lines[0]["error"] == "RuntimeError"


@pytest.mark.parametrize(
    ("path", "code"),
    [("/db-down", "DATABASE_UNAVAILABLE"), ("/redis-down", "CACHE_UNAVAILABLE")],
)
def test_an_unavailable_dependency_is_a_503_naming_it(
    client: TestClient, path: str, code: str
) -> None:
    response = client.get(path)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == code
    assert response.headers["retry-after"] == "5"
    assert response.headers["x-request-id"]


def test_security_headers_on_every_answer_and_no_store_on_personal_ones(
    client: TestClient,
) -> None:
    for response in (client.get("/v1/users/me"), client.get("/boom"), client.get("/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "server" not in response.headers
    assert client.get("/v1/users/me").headers["cache-control"] == "no-store"
    assert "cache-control" not in client.get("/nowhere").headers
    assert (
        client.get("/nowhere", headers={"Authorization": "Bearer x"}).headers["cache-control"]
        == "no-store"
    )
