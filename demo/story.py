"""The demo's shopper story, told through the real HTTP API of a `serving` app on a free port.

An admin seeds a small catalog and two promotions; a shopper registers, logs in, browses,
views products, wishlists one, fills a cart, applies a coupon and asks for a quote; a supplier's
purchase order restocks the warehouse and the shopper is told by e-mail (demo/notify_story.py);
the outbox relay publishes every event the story recorded.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.table import Table

from demo import notify_story
from demo.catalog import generate
from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from serving.app import create_app
from serving.outbox import OutboxRelay, drain
from serving.security import Role
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.stack.process import free_port

DEMO_PRODUCTS = 40
COUPON = "WELCOME5"
RUNNING_WEEK = "Running week: 10% off"


@dataclass
class Story:
    steps: list[tuple[str, float, str]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        began = time.perf_counter()
        notes: list[str] = []
        yield notes
        self.steps.append((name, time.perf_counter() - began, "; ".join(notes)))

    def table(self) -> Table:
        table = Table(title="shopper story through the API")
        for column in ("step", "seconds", "what it saw"):
            table.add_column(column, justify="right" if column == "seconds" else "left")
        for name, seconds, notes in self.steps:
            table.add_row(name, f"{seconds:.2f}", notes)
        return table


@contextmanager
def running_api(settings: Settings) -> Iterator[str]:
    """The API served by uvicorn in a background thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="demo-api", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the demo API did not start")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)


def _ok(response: httpx.Response, *accepted: int) -> dict[str, Any]:
    if response.status_code not in (accepted or (200, 201)):
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json() if response.content else {}


def _admin_headers(settings: Settings, api: httpx.Client) -> dict[str, str]:
    email = f"demo-admin-{uuid.uuid4().hex[:8]}@shoplake.dev"
    password = uuid.uuid4().hex
    engine = make_engine(settings, pool_size=1)
    try:
        with engine.begin() as conn:
            accounts.register(conn, UserRegister(email=email, password=password), role=Role.ADMIN)
    finally:
        engine.dispose()
    token = _ok(api.post("/v1/auth/token", data={"username": email, "password": password}))
    return {"Authorization": f"Bearer {token['access_token']}"}


def run_story(
    settings: Settings,
    console: Console | None = None,
    then: Callable[[str], None] | None = None,
) -> Story:
    """The story; `then(base_url)` runs last, while the API still serves (the search chapter)."""
    story = Story()
    with running_api(settings) as base, httpx.Client(base_url=base, timeout=30) as api:
        with story.step("admin seeds the catalog") as notes:
            admin = _admin_headers(settings, api)
            created = existing = 0
            for product in generate(DEMO_PRODUCTS):
                response = api.post(
                    "/v1/admin/products", json=product.as_create_body(), headers=admin
                )
                _ok(response, 201, 409)
                created += response.status_code == 201
                existing += response.status_code == 409
            notes.append(f"{created} products created, {existing} already there")

        with story.step("admin sets promotions") as notes:
            now = datetime.now(UTC).isoformat()
            listed = _ok(api.get("/v1/admin/promotions", params={"limit": 100}, headers=admin))
            names = {promotion["name"] for promotion in listed["items"]}
            if RUNNING_WEEK not in names:
                running = api.post(
                    "/v1/admin/promotions",
                    headers=admin,
                    json={
                        "name": RUNNING_WEEK,
                        "kind": "percentage",
                        "value": 1000,
                        "scope": "category",
                        "scope_values": ["shoes/running"],
                        "starts_at": now,
                    },
                )
                _ok(running, 201)
            coupon = api.post(
                "/v1/admin/promotions",
                headers=admin,
                json={
                    "name": "Welcome: 5 EUR off",
                    "kind": "fixed",
                    "value": 500,
                    "currency": "EUR",
                    "scope": "cart",
                    "starts_at": now,
                    "coupon_code": COUPON,
                    "usage_limit": 100_000,
                },
            )
            _ok(coupon, 201, 409)
            notes.append(
                f"'{RUNNING_WEEK}' {'kept' if RUNNING_WEEK in names else 'created'}; "
                f"coupon {COUPON}"
            )

        with story.step("shopper registers and logs in") as notes:
            email, password = f"shopper-{uuid.uuid4().hex[:8]}@example.com", uuid.uuid4().hex
            _ok(api.post("/v1/auth/register", json={"email": email, "password": password}), 202)
            tokens = _ok(api.post("/v1/auth/token", data={"username": email, "password": password}))
            shopper = {"Authorization": f"Bearer {tokens['access_token']}"}
            notes.append(email)

        with story.step("shopper browses") as notes:
            tree = _ok(api.get("/v1/categories"))
            page = _ok(
                api.get(
                    "/v1/products", params={"category": "shoes", "sort": "price_asc", "limit": 5}
                )
            )
            skus = [item["sku"] for item in page["items"]]
            detail = _ok(api.get(f"/v1/products/{skus[0]}"))
            notes.append(
                f"{len(tree)} top categories; cheapest shoes {skus[0]} at "
                f"{detail['price_cents'] / 100:.2f} {detail['currency']}"
            )

        with story.step("behaviour events") as notes:
            session_id = uuid.uuid4().hex
            sent = _ok(
                api.post(
                    "/v1/events/behaviour",
                    headers=shopper,
                    json={
                        "events": [
                            {"type": "ProductViewed", "session_id": session_id, "sku": sku}
                            for sku in skus
                        ]
                    },
                ),
                202,
            )
            notes.append(f"{sent['accepted']} product views sent straight to Kafka")

        with story.step("wishlist, cart, coupon") as notes:
            _ok(api.post("/v1/wishlist/items", json={"sku": skus[-1]}, headers=shopper), 201)
            for sku, quantity in ((skus[0], 2), (skus[1], 1)):
                _ok(
                    api.post(
                        "/v1/cart/items", json={"sku": sku, "quantity": quantity}, headers=shopper
                    )
                )
            _ok(api.post("/v1/cart/coupon", json={"code": COUPON}, headers=shopper))
            cart = _ok(api.get("/v1/cart", headers=shopper))
            notes.append(f"{len(cart['lines'])} lines, version {cart['version']}")

        with story.step("server-side quote") as notes:
            quote = _ok(
                api.post(
                    "/v1/pricing/quote",
                    json={"items": [{"sku": skus[0], "quantity": 2}], "coupon_code": COUPON},
                )
            )
            adjustments = quote["cart_adjustments"] + [
                adj for line in quote["lines"] for adj in line["adjustments"]
            ]
            reasons = sorted({adj["name"] for adj in adjustments})
            notes.append(
                f"subtotal {quote['subtotal_cents']}, discount {quote['discount_cents']}, "
                f"total {quote['total_cents']} cents ({', '.join(reasons) or 'no promotion'})"
            )

        notify_story.before_relay(story.step, api, admin, skus[:2], skus[-1], email)

        with story.step("outbox → Kafka") as notes:
            engine = make_engine(settings, pool_size=2)
            try:
                notes.append(
                    f"{drain(OutboxRelay(settings, engine), timeout_s=120)} events published"
                )
            finally:
                engine.dispose()

        notify_story.after_relay(story.step, settings)

        if console is not None:
            console.print(story.table())
        notify_story.show_mailbox(settings, api, shopper, email, console)
        if then is not None:
            then(base)

    return story
