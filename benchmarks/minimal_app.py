"""The floor the API is compared with: a minimal FastAPI route returning a body like a
product's, no middleware, no dependency, no store. `benchmarks.api_floor` serves it with the
same uvicorn options as `shoplake serve`.

    .venv/bin/python -m uvicorn benchmarks.minimal_app:app --port 8001
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio
from fastapi import FastAPI, Response

from shoplake.config import get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.redis = redis.asyncio.Redis.from_url(get_settings().redis_endpoint)
    try:
        yield
    finally:
        await app.state.redis.aclose()


app = FastAPI(lifespan=lifespan)

PRODUCT: dict[str, Any] = {
    "name": "Trail runner 2",
    "description": "A light trail running shoe with a grippy sole and a breathable upper.",
    "brand": "Northwind",
    "category_path": ["outdoor", "footwear"],
    "price_cents": 12900,
    "currency": "EUR",
    "attributes": {"color": "blue", "size": "42", "material": "mesh"},
    "image_urls": ["https://img.example.com/p/trail-runner-2.jpg"],
    "status": "active",
    "version": 1,
    "created_at": "2026-11-01T10:00:00Z",
    "updated_at": "2026-11-01T10:00:00Z",
}


@app.get("/v1/products/{sku}")
async def product(sku: str) -> dict[str, Any]:
    return {"sku": sku, **PRODUCT}


@app.get("/redis/{key}")
async def one_redis_get(key: str) -> Response:
    """The floor plus what a cache hit cannot avoid: one Redis GET on the event loop."""
    value = await app.state.redis.get(key)
    return Response(value or b"{}", media_type="application/json")
