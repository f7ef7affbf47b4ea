"""The demo's after-checkout chapter: a shopper buys, the warehouse picks, packs and ships, the
sandbox carrier delivers, and an old order moves to the archive while the history still shows
it — through the real HTTP API, the fulfilment consumer and the archive job.

The stock sits in two warehouses so that the order is split in two shipments; the shipping is
priced to Germany by weight; the labels are real PDFs under the state dir. To have an order old
enough to archive, the chapter places a second order, cancels it and dates it back six years
(the only thing it does behind the API's back), then runs the archive job for orders older
than five: far enough back that a bulk-loaded order history (the gold layer's simulator) is
not swept into the demo's run.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from rich.console import Console

from demo import notify_story
from demo.story import Story, _admin_headers, _ok
from serving.fulfilment.intake import ShipmentIntake
from serving.orders.tables import orders
from serving.outbox import OutboxRelay, drain
from shoplake.config import Settings
from shoplake.db import make_engine
from spark_jobs.order_archive import archive_orders
from streaming.fulfilment_consumer import run as run_fulfilment

WAREHOUSES = ("WH-NORTH", "WH-SOUTH")
ADDRESS = {
    "full_name": "Mia Schröder",
    "line1": "Oranienstraße 25",
    "city": "Berlin",
    "postal_code": "10999",
    "country": "DE",
}
PARCEL = {"weight_g": 1400, "length_mm": 350, "width_mm": 250, "height_mm": 120}
ARCHIVE_AFTER_DAYS = 5 * 365
DATED_BACK_DAYS = 6 * 365
DELIVERY_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Chapter:
    story: Story
    order_id: str
    archived_order_id: str
    labels: list[Path]


def _shopper(api: httpx.Client) -> tuple[str, dict[str, str]]:
    email, password = f"buyer-{uuid.uuid4().hex[:8]}@example.com", uuid.uuid4().hex
    _ok(api.post("/v1/auth/register", json={"email": email, "password": password}), 202)
    tokens = _ok(api.post("/v1/auth/token", data={"username": email, "password": password}))
    return email, {"Authorization": f"Bearer {tokens['access_token']}"}


def _checkout(api: httpx.Client, shopper: dict[str, str], items: list[tuple[str, int]]) -> Any:
    for sku, quantity in items:
        _ok(api.post("/v1/cart/items", json={"sku": sku, "quantity": quantity}, headers=shopper))
    return _ok(
        api.post(
            "/v1/checkout",
            json={"payment_token": "tok_ok", "shipping_address": ADDRESS},
            headers={**shopper, "Idempotency-Key": f"demo-{uuid.uuid4().hex}"},
        ),
        201,
    )["order"]


def _publish(settings: Settings) -> int:
    engine = make_engine(settings, pool_size=2)
    try:
        return drain(OutboxRelay(settings, engine), timeout_s=120)
    finally:
        engine.dispose()


def after_checkout_story(
    settings: Settings, base_url: str, console: Console | None = None
) -> Chapter:
    """The chapter, against the API at `base_url` (the demo's running app)."""
    story = Story()
    labels: list[Path] = []
    with httpx.Client(base_url=base_url, timeout=60) as api:
        admin = _admin_headers(settings, api)

        with story.step("stock in two warehouses") as notes:
            page = _ok(api.get("/v1/products", params={"category": "home", "limit": 2}))
            split, single = (item["sku"] for item in page["items"])
            # A count sets the shelves exactly, so that every run splits the order the same way.
            counts = [
                (split, WAREHOUSES[0], 2),
                (split, WAREHOUSES[1], 3),
                (single, WAREHOUSES[1], 5),
            ]
            for sku, warehouse, units in counts:
                _ok(
                    api.put(
                        f"/v1/admin/inventory/{sku}/{warehouse}",
                        json={"on_hand": units, "note": "demo count"},
                        headers=admin,
                    )
                )
            notes.append(f"{split}: 2 in {WAREHOUSES[0]}, 3 in {WAREHOUSES[1]}; {single}: 5")

        with story.step("shopper checks out") as notes:
            email, shopper = _shopper(api)
            order = _checkout(api, shopper, [(split, 4), (single, 1)])
            shipping = order["shipping"]
            notes.append(
                f"{email}: order {order['id'][:8]} {order['status']}, total {order['total_cents']} "
                f"cents incl. shipping {order['shipping_cents']} ({shipping['description']})"
            )

        with story.step("fulfilment consumer") as notes:
            published = _publish(settings)
            engine = make_engine(settings, pool_size=2)
            try:
                stats = run_fulfilment(
                    settings, ShipmentIntake(engine, settings), stop_after_idle_s=2.0
                )
            finally:
                engine.dispose()
            tracking = _ok(api.get(f"/v1/orders/{order['id']}/tracking", headers=shopper))
            shipments = tracking["shipments"]
            notes.append(
                f"{published} events published; {stats.confirmed} OrderConfirmed read, "
                f"{len(shipments)} shipments for this order "
                f"({', '.join(s['id'][:8] for s in shipments)}), order {tracking['status']}"
            )

        with story.step("pick lists") as notes:
            for warehouse in WAREHOUSES:
                picklist = _ok(api.get(f"/v1/ops/warehouses/{warehouse}/picklist", headers=admin))
                totals = ", ".join(f"{t['quantity']} x {t['sku']}" for t in picklist["totals"])
                notes.append(f"{warehouse}: {totals or 'nothing'}")

        with story.step("pick, pack (labels), ship") as notes:
            ours = {s["id"] for s in shipments}
            for shipment_id in sorted(ours):
                _ok(api.post(f"/v1/ops/shipments/{shipment_id}/pick", headers=admin))
                packed = _ok(
                    api.post(f"/v1/ops/shipments/{shipment_id}/pack", json=PARCEL, headers=admin)
                )
                label = api.get(packed["label_url"], headers=admin)
                path = settings.state_dir / "labels" / f"{shipment_id}.pdf"
                if label.status_code != 200 or not path.is_file():
                    raise RuntimeError(f"no label for shipment {shipment_id}: {label.text[:200]}")
                labels.append(path)
                _ok(api.post(f"/v1/ops/shipments/{shipment_id}/ship", headers=admin))
            detail = _ok(api.get(f"/v1/orders/{order['id']}", headers=shopper))
            notes.append(
                f"labels {', '.join(str(p) for p in labels)}; order {detail['status']}, "
                f"payment {detail['payment']['status']}"
            )

        with story.step("sandbox carrier delivers") as notes:
            deadline = time.monotonic() + DELIVERY_TIMEOUT_S
            while True:
                _ok(api.post("/v1/ops/carriers/track", headers=admin))
                tracking = _ok(api.get(f"/v1/orders/{order['id']}/tracking", headers=shopper))
                if tracking["status"] == "DELIVERED":
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the order was not delivered in time: {tracking}")
                time.sleep(1.0)
            for shipment in tracking["shipments"]:
                scans = " → ".join(s["status"].lower() for s in shipment["scans"])
                notes.append(f"{shipment['tracking_number']}: {scans}")
            notes.append(f"order {tracking['status']}")

        with story.step("an old order is archived") as notes:
            old = _checkout(api, shopper, [(single, 1)])
            _ok(api.post(f"/v1/orders/{old['id']}/cancel", headers=shopper))
            _date_back(settings, old["id"], days=DATED_BACK_DAYS)
            run = archive_orders(settings, older_than_days=ARCHIVE_AFTER_DAYS)
            done = [b for b in run.batches if b.state == "done"]
            history = _history(api, shopper, settings.archive_read_refresh_s)
            shown = {o["id"]: o["archived"] for o in history}
            if shown.get(old["id"]) is not True or order["id"] not in shown:
                raise RuntimeError(f"the history does not show the archived order: {shown}")
            archived = _ok(api.get(f"/v1/orders/{old['id']}", headers=shopper))
            notes.append(
                f"{run.orders} orders ({run.rows} rows) moved in {len(done)} batch(es); "
                f"the history lists {len(history)} orders, {old['id'][:8]} archived "
                f"({archived['status']}, {len(archived['history'] or [])} status changes)"
            )

        with story.step("outbox → Kafka") as notes:
            notes.append(f"{_publish(settings)} events published")
        # The buyer is told of each step by e-mail and in the feed, like any shopper.
        notify_story.after_relay(story.step, settings)

        if console is not None:
            table = story.table()
            table.title = "after checkout: warehouse, carrier, archive"
            console.print(table)
        notify_story.show_mailbox(settings, api, shopper, email, console)
    return Chapter(story, order["id"], old["id"], labels)


def _date_back(settings: Settings, order_id: str, *, days: int) -> None:
    """Make the order `days` old (placed and last changed then)."""
    then = datetime.now(UTC) - timedelta(days=days)
    engine = make_engine(settings, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.update(orders)
                .where(orders.c.id == order_id)
                .values(created_at=then, updated_at=then)
            )
    finally:
        engine.dispose()


def _history(api: httpx.Client, shopper: dict[str, str], refresh_s: float) -> list[Any]:
    """The shopper's whole order history (after the API's archive view refreshed)."""
    time.sleep(refresh_s)
    items: list[Any] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        page = _ok(api.get("/v1/orders", params=params, headers=shopper))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
