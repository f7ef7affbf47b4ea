"""The demo's search chapter: catch the index up with the catalog events, then a few searches
through the real HTTP API, with their facets."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from shoplake.config import child_env

SEARCHES: list[tuple[str, dict[str, Any]]] = [
    ("plain", {"q": "jacket"}),
    ("typo", {"q": "hikng boots"}),
    ("synonym", {"q": "sneakers"}),
    ("filtered", {"q": "jacket", "attr.color": "black", "sort": "price_asc"}),
    ("facets only", {"category": "electronics"}),
    ("nothing", {"q": "xylophone"}),
]


def _catch_up(console: Console) -> None:
    """`shoplake stream search --once`: the consumer applies what is on Kafka, then stops
    (a subprocess, so `serving` never imports `streaming`)."""
    began = time.monotonic()
    argv = [
        sys.executable,
        "-m",
        "shoplake_cli.main",
        "stream",
        "search",
        "--once",
        "--idle-s",
        "2",
    ]
    done = subprocess.run(
        argv, env=child_env(), capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the search consumer failed: {done.stderr[-500:]}")
    console.print(f"… search consumer caught up in {time.monotonic() - began:.1f}s")


def _facet_line(facets: dict[str, Any]) -> str:
    parts = [
        "brand: " + ", ".join(f"{f['value']} {f['count']}" for f in facets["brand"][:3]),
        "price: " + ", ".join(f"{b['key']} {b['count']}" for b in facets["price"] if b["count"]),
    ]
    parts += [
        f"{name}: " + ", ".join(f"{f['value']} {f['count']}" for f in values[:3])
        for name, values in list(facets["attributes"].items())[:2]
    ]
    return "\n".join(parts)


def search_demo(base_url: str, console: Console) -> None:
    """Run the consumer once, then show searches and autocomplete against `base_url`."""
    _catch_up(console)
    table = Table(title="Search (Elasticsearch behind /v1/search)")
    for column in ("search", "query", "hits", "top results", "facets", "ms"):
        table.add_column(column)
    with httpx.Client(base_url=base_url, timeout=10) as http:
        for label, params in SEARCHES:
            began = time.perf_counter()
            response = http.get("/v1/search", params={**params, "size": 3})
            elapsed = (time.perf_counter() - began) * 1000
            response.raise_for_status()
            page = response.json()
            top = "\n".join(f"{i['name']} ({i['price_cents'] / 100:.2f})" for i in page["items"])
            query = " ".join(f"{k}={v}" for k, v in params.items())
            table.add_row(
                label, query, str(page["total"]), top, _facet_line(page["facets"]), f"{elapsed:.0f}"
            )
        suggest = http.get("/v1/search/suggest", params={"q": "trai"}).json()
    console.print(table)
    console.print(f"autocomplete 'trai' → {', '.join(suggest['suggestions'])}")
