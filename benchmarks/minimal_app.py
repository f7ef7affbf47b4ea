"""The floor the API is compared with: a minimal FastAPI route returning a body like a
product's, no middleware, no dependency, no store. `benchmarks.api_floor` serves it with the
same uvicorn options as `shoplake serve`.

    .venv/bin/python -m uvicorn benchmarks.minimal_app:app --port 8001
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()

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
