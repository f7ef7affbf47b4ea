"""The demo's chapter of suppliers and notifications, told through the same API as the story.

Before the story's events go to Kafka: a supplier's purchase order restocks the warehouse (the
supplier acknowledges it and announces the shipment, the buyer books the delivery, and the
wishlisted product comes back in stock), the wishlisted product's price drops, and someone
tries to register with the shopper's e-mail. After: the notification consumer takes the events
from Kafka and mails the shopper, and the chapter prints what Mailpit received.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from shoplake.config import Settings

SUPPLIER_CODE = "DEMO-SUPPLY"
WAREHOUSE = "WH-1"
RESTOCK_UNITS = 60

Step = Callable[[str], AbstractContextManager[list[str]]]


def _ok(response: httpx.Response, *accepted: int) -> Any:
    if response.status_code not in (accepted or (200, 201)):
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json() if response.content else {}


def _supplier(api: httpx.Client, admin: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The demo supplier (made once) and a fresh user of it, logged in."""
    found = None
    cursor = None
    while found is None:
        page = _ok(
            api.get(
                "/v1/admin/suppliers", headers=admin, params={"cursor": cursor} if cursor else {}
            )
        )
        found = next((s for s in page["items"] if s["code"] == SUPPLIER_CODE), None)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    if found is None:
        found = _ok(
            api.post(
                "/v1/admin/suppliers",
                headers=admin,
                json={
                    "code": SUPPLIER_CODE,
                    "name": "Demo Supply Co",
                    "contact_email": "orders@supply.example.com",
                },
            )
        )
    email, password = f"supplier-{uuid.uuid4().hex[:8]}@supply.example.com", uuid.uuid4().hex
    _ok(
        api.post(
            f"/v1/admin/suppliers/{found['id']}/users",
            headers=admin,
            json={"email": email, "password": password, "display_name": "Demo Supply desk"},
        )
    )
    token = _ok(api.post("/v1/auth/token", data={"username": email, "password": password}))
    return found["id"], {"Authorization": f"Bearer {token['access_token']}"}


def supplier_restock(
    step: Step, api: httpx.Client, admin: dict[str, str], skus: list[str], wished: str
) -> None:
    """A purchase order from order to shelf; the wished product is sold out first, so that the
    delivery brings it back in stock (BackInStock, the wishlist alert)."""
    with step("supplier PO restocks the warehouse") as notes:
        sold_out = api.put(
            f"/v1/admin/inventory/{wished}/{WAREHOUSE}",
            headers=admin,
            json={"on_hand": 0, "note": "demo: sold out"},
        )
        supplier_id, supplier = _supplier(api, admin)
        arrival = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
        po = _ok(
            api.post(
                "/v1/admin/purchase-orders",
                headers=admin,
                json={
                    "supplier_id": supplier_id,
                    "warehouse_id": WAREHOUSE,
                    "expected_arrival": arrival,
                    "lines": [
                        {"sku": sku, "quantity": RESTOCK_UNITS, "unit_cost_cents": 900}
                        for sku in dict.fromkeys([*skus, wished])
                    ],
                },
            )
        )
        _ok(api.post(f"/v1/admin/purchase-orders/{po['id']}/submit", headers=admin))
        base = f"/v1/supplier/purchase-orders/{po['id']}"
        _ok(api.post(f"{base}/acknowledge", headers=supplier, json={"expected_arrival": arrival}))
        lines = [{"sku": line["sku"], "quantity": line["quantity_ordered"]} for line in po["lines"]]
        _ok(
            api.post(
                f"{base}/ship-notices",
                headers=supplier,
                json={
                    "reference": f"ASN-{po['number']}",
                    "expected_arrival": arrival,
                    "carrier": "Demo Freight",
                    "lines": lines,
                },
            )
        )
        booked = _ok(
            api.post(
                f"/v1/admin/purchase-orders/{po['id']}/receipts",
                headers=admin,
                json={"reference": f"DN-{po['number']}", "lines": lines},
            )
        )
        closed = _ok(api.post(f"/v1/admin/purchase-orders/{po['id']}/close", headers=admin))
        level = _ok(api.get(f"/v1/inventory/{wished}"))
        notes.append(
            f"{po['number']}: {len(lines)} lines submitted, acknowledged, announced, "
            f"{booked['purchase_order']['status'].lower()}, {closed['status'].lower()}; "
            f"{wished} {'sold out, then ' if sold_out.status_code == 200 else ''}"
            f"{level['available']} available in {WAREHOUSE}"
        )


def wishlist_price_drop(step: Step, api: httpx.Client, admin: dict[str, str], wished: str) -> None:
    """Up, then down again: only the drop is news to the wisher."""
    with step("wished product's price drops") as notes:
        product = _ok(api.get(f"/v1/products/{wished}"))
        price = product["price_cents"]
        _ok(
            api.patch(
                f"/v1/admin/products/{wished}",
                headers=admin,
                json={"price_cents": price + price // 10 + 100},
            )
        )
        _ok(api.patch(f"/v1/admin/products/{wished}", headers=admin, json={"price_cents": price}))
        notes.append(f"{wished}: {price + price // 10 + 100} → {price} cents")


def taken_email_registration(step: Step, api: httpx.Client, email: str) -> None:
    with step("someone registers with the shopper's e-mail") as notes:
        answer = api.post("/v1/auth/register", json={"email": email, "password": uuid.uuid4().hex})
        notes.append(f"answered {answer.status_code} like any registration; the owner is told")


def before_relay(
    step: Step,
    api: httpx.Client,
    admin: dict[str, str],
    bought: list[str],
    wished: str,
    shopper_email: str,
) -> None:
    """This chapter's writes, while the story's events still wait in the outbox."""
    supplier_restock(step, api, admin, bought, wished)
    wishlist_price_drop(step, api, admin, wished)
    taken_email_registration(step, api, shopper_email)


def after_relay(step: Step, settings: Settings) -> None:
    """The consumer takes the story's events from Kafka and sends what is due, until idle; the
    facts it records (NotificationSent...) are then published for the lake."""
    from serving.outbox import OutboxRelay, drain
    from shoplake.db import make_engine
    from streaming.notifications.consumer import run

    with step("notifications: Kafka → e-mail, feed") as notes:
        stats = run(settings, stop_after_idle_s=3.0)
        engine = make_engine(settings, pool_size=2)
        try:
            published = drain(OutboxRelay(settings, engine), timeout_s=120)
        finally:
            engine.dispose()
        notes.append(
            f"{stats.intake['deliveries'] - stats.intake['duplicates']} new messages, "
            f"{stats.sent['sent']} sent, {stats.sent['failed']} dead-lettered; "
            f"{published} delivery facts published"
        )


def _messages_to(settings: Settings, email: str) -> Iterator[dict[str, Any]]:
    with httpx.Client(base_url=f"{settings.mailpit_endpoint}/api/v1", timeout=10) as mailpit:
        found = mailpit.get("/search", params={"query": f"to:{email}", "limit": 50}).json()
        yield from reversed(found["messages"])


def show_mailbox(
    settings: Settings,
    api: httpx.Client,
    shopper: dict[str, str],
    email: str,
    console: Console | None,
) -> int:
    """What Mailpit received for the shopper, and where to look; the number of mails."""
    messages = list(_messages_to(settings, email))
    feed = _ok(api.get("/v1/users/me/notifications/feed", headers=shopper, params={"limit": 100}))
    if console is not None:
        table = Table(title=f"Mailpit received for {email}")
        for column in ("received", "subject"):
            table.add_column(column)
        for message in messages:
            table.add_row(message["Created"][11:19], message["Subject"])
        console.print(table)
        console.print(
            f"in-app feed: {len(feed['items'])} notifications, {feed['unread_count']} unread\n"
            f"Mailpit: {settings.mailpit_endpoint} — its HTTP API lists every message "
            f"({settings.mailpit_endpoint}/api/v1/messages, /api/v1/message/<ID> for one); "
            "this build (`go install`) carries no web UI assets, so the page at that address "
            "is an empty shell",
            highlight=False,
        )
    return len(messages)
