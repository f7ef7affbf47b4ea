"""Silver rows of purchase orders and notifications, on small explicit events."""

from __future__ import annotations

from datetime import date

from pyspark.sql import SparkSession

from shoplake.events.inbound import (
    PurchaseOrderClosed,
    PurchaseOrderCreated,
    PurchaseOrderLine,
    PurchaseOrderReceived,
    ShipNoticeSent,
    UnitsOfSku,
)
from shoplake.events.notification import NotificationFailed, NotificationRequested, NotificationSent
from spark_jobs.silver import notifications, purchase_orders
from tests.support.lake import bronze, event

PO = {"purchase_order_id": "po-1", "supplier_id": "s-1"}


def test_purchase_order_facts_carry_their_status_and_units(spark: SparkSession) -> None:
    created = PurchaseOrderCreated(
        **PO,
        number="PO-000001",
        warehouse_id="WH-1",
        currency="EUR",
        lines=[
            PurchaseOrderLine(sku="A", quantity=10, unit_cost_cents=300),
            PurchaseOrderLine(sku="B", quantity=5, unit_cost_cents=100),
        ],
        total_cost_cents=3500,
        expected_arrival=date(2026, 12, 1),
    )
    notice = ShipNoticeSent(
        **PO,
        ship_notice_id="n-1",
        reference="ASN-1",
        expected_arrival=date(2026, 11, 30),
        shipped_lines=[UnitsOfSku(sku="A", quantity=10)],
        carrier="DHL",
    )
    received = PurchaseOrderReceived(
        **PO,
        receipt_id="r-1",
        reference="DN-1",
        warehouse_id="WH-1",
        received_lines=[UnitsOfSku(sku="A", quantity=7), UnitsOfSku(sku="B", quantity=5)],
        status="PARTIALLY_RECEIVED",
    )
    closed = PurchaseOrderClosed(**PO, units_short=3)
    facts = [event(e, f"e{n}", n) for n, e in enumerate((created, notice, received, closed))]
    rows = bronze(spark, [*facts, facts[-1]])  # the last one delivered twice

    out = {r.action: r for r in purchase_orders.transform(rows).collect()}
    assert sorted(out) == ["CLOSED", "CREATED", "RECEIVED", "SHIP_NOTICE"]
    assert (out["CREATED"].status, out["CREATED"].line_count, out["CREATED"].units) == (
        "DRAFT",
        2,
        15,
    )
    assert out["CREATED"].expected_arrival == date(2026, 12, 1)
    assert (out["SHIP_NOTICE"].status, out["SHIP_NOTICE"].units, out["SHIP_NOTICE"].carrier) == (
        None,
        10,
        "DHL",
    )
    assert (out["RECEIVED"].status, out["RECEIVED"].units, out["RECEIVED"].reference) == (
        "PARTIALLY_RECEIVED",
        12,
        "DN-1",
    )
    assert (out["CLOSED"].status, out["CLOSED"].units_short, out["CLOSED"].line_count) == (
        "CLOSED",
        3,
        None,
    )
    assert purchase_orders.transform(rows).count() == 4


def test_notification_facts_are_labelled(spark: SparkSession) -> None:
    delivery = {
        "user_id": "u-1",
        "kind": "order_confirmed",
        "delivery_id": 7,
        "channel": "email",
        "source_event_id": "src-1",
        "source_event_type": "shop.order.OrderConfirmed.v1",
        "attempts": 2,
    }
    facts = [
        NotificationRequested(user_id="u-1", kind="account_exists"),
        NotificationSent(**delivery),
        NotificationFailed(**{**delivery, "channel": "sms"}, reason="550 no such number"),
    ]
    rows = notifications.transform(
        bronze(spark, [event(f, f"n{i}", i) for i, f in enumerate(facts)])
    )
    got = sorted((r.action, r.kind, r.channel, r.attempts, r.reason) for r in rows.collect())
    assert got == [
        ("FAILED", "order_confirmed", "sms", 2, "550 no such number"),
        ("REQUESTED", "account_exists", None, None, None),
        ("SENT", "order_confirmed", "email", 2, None),
    ]
