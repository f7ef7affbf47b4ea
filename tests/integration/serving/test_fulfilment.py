"""Fulfilment on the real stack: a split order gets one shipment per warehouse (once, however
often its OrderConfirmed comes), ops pick, pack (a real label PDF) and ship, the sandbox carrier
delivers, the order follows (SHIPPED captures, DELIVERED when all arrived), and shoppers track."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import pypdf
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.fulfilment.intake import ShipmentIntake
from serving.fulfilment.sandbox_carrier import FAILED_ATTEMPT_MARK
from serving.fulfilment.tables import shipment_lines, shipments
from serving.security import Role
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events.shipment import ShipmentDelivered
from tests.support.callers import Caller, MakeCaller
from tests.support.factories import outbox_events
from tests.support.fakes import FakeGateway, injected_gateway
from tests.support.fulfilment import (
    PARCEL,
    deliver_all,
    make_shipments,
    mixed_order,
    order_event,
    ship_all,
    shipments_of,
    split_order,
)
from tests.support.shop_api import ADDRESS, order_events, token_headers


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture
def fake(client: TestClient) -> Iterator[FakeGateway]:
    with injected_gateway(client, FakeGateway()) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def ops(make_caller: MakeCaller) -> Caller:
    return make_caller(Role.OPS)


def _shipment_rows(engine: Engine, order_id: str) -> list[sa.RowMapping]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(shipments)
                .where(shipments.c.order_id == order_id)
                .order_by(shipments.c.warehouse_id)
            )
            .mappings()
            .all()
        )


def test_a_split_order_gets_one_shipment_per_warehouse_and_a_redelivery_creates_none(
    client: TestClient, admin: Caller, api_settings: Settings, engine: Engine, fake: FakeGateway
) -> None:
    order = split_order(client, admin, api_settings)
    event = order_event(engine, order.order_id, "OrderConfirmed")
    intake = ShipmentIntake(engine, api_settings)

    assert intake.order_confirmed(event.id, order.order_id) == 2
    assert intake.order_confirmed(event.id, order.order_id) == 0  # redelivered
    # A replay under another id (a re-published event) finds the shipments and adds none.
    assert intake.order_confirmed(str(uuid.uuid4()), order.order_id) == 0

    rows = _shipment_rows(engine, order.order_id)
    assert [(r["warehouse_id"], r["status"]) for r in rows] == [
        (order.warehouses[0], "CREATED"),
        (order.warehouses[1], "CREATED"),
    ]
    tracking = client.get(f"/v1/orders/{order.order_id}/tracking", headers=order.headers).json()
    assert tracking["status"] == "FULFILLING"
    assert [
        [(line["sku"], line["quantity"]) for line in s["lines"]] for s in tracking["shipments"]
    ] == [
        [(order.sku, 2)],
        [(order.sku, 2)],
    ]
    created = [e for e in outbox_events(engine, key=rows[0]["id"]) if e.fact == "ShipmentCreated"]
    assert len(created) == 1
    assert order_events(engine, order.order_id)["OrderStatusChanged"] == 2  # CONFIRMED, FULFILLING


def test_ops_pick_pack_ship_and_the_sandbox_carrier_delivers(
    client: TestClient,
    admin: Caller,
    ops: Caller,
    api_settings: Settings,
    engine: Engine,
    fake: FakeGateway,
) -> None:
    order = split_order(client, admin, api_settings)
    make_shipments(engine, api_settings, order.order_id)
    first, second = [s["id"] for s in shipments_of(client, order.headers, order.order_id)]

    picklist = client.get(
        f"/v1/ops/warehouses/{order.warehouses[0]}/picklist", headers=ops.headers
    ).json()
    assert [item["id"] for item in picklist["items"]] == [first]
    assert picklist["totals"] == [{"sku": order.sku, "name": "Fulfilment lamp", "quantity": 2}]

    early = client.post(f"/v1/ops/shipments/{first}/pack", json=PARCEL, headers=ops.headers)
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "ILLEGAL_SHIPMENT_TRANSITION"
    assert (
        client.get(f"/v1/ops/shipments/{first}/label.pdf", headers=ops.headers).status_code == 404
    )

    (shipped_first,) = ship_all(client, ops, [first])
    assert shipped_first["status"] == "SHIPPED" and shipped_first["tracking_number"]
    # One of two shipments left: the order waits, nothing is captured yet.
    detail = client.get(f"/v1/orders/{order.order_id}", headers=order.headers).json()
    assert detail["status"] == "FULFILLING" and detail["payment"]["status"] == "authorized"
    assert (
        client.get(
            f"/v1/ops/warehouses/{order.warehouses[0]}/picklist", headers=ops.headers
        ).json()["items"]
        == []
    )

    label = client.get(f"/v1/ops/shipments/{first}/label.pdf", headers=ops.headers)
    assert label.status_code == 200 and label.headers["content-type"] == "application/pdf"
    page = pypdf.PdfReader(io.BytesIO(label.content)).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (288.0, 432.0)
    text = page.extract_text()
    assert shipped_first["tracking_number"] in text and ADDRESS["full_name"] in text

    (shipped_second,) = ship_all(client, ops, [second])
    detail = client.get(f"/v1/orders/{order.order_id}", headers=order.headers).json()
    assert detail["status"] == "SHIPPED" and detail["payment"]["status"] == "captured"
    assert fake.calls["capture"] == 1

    run = deliver_all(client, ops, api_settings, [shipped_first, shipped_second])
    assert run["delivered"] == 2 and run["orders_delivered"] == 1
    tracking = client.get(f"/v1/orders/{order.order_id}/tracking", headers=order.headers).json()
    assert tracking["status"] == "DELIVERED"
    for shipment in tracking["shipments"]:
        assert shipment["status"] == "DELIVERED"
        assert [s["status"] for s in shipment["scans"]] == [
            "IN_TRANSIT",
            "OUT_FOR_DELIVERY",
            "DELIVERED",
        ]
    again = client.post("/v1/ops/carriers/track", headers=ops.headers).json()
    assert again["delivered"] == 0  # nothing new from the carrier: nothing moves
    facts = [e.fact for e in outbox_events(engine, key=first)]
    assert facts == ["ShipmentCreated", "ShipmentPacked", "ShipmentShipped", "ShipmentDelivered"]
    assert order_events(engine, order.order_id)["PaymentCaptured"] == 1


def test_a_failed_delivery_attempt_is_tracked_and_the_parcel_still_arrives(
    client: TestClient,
    admin: Caller,
    ops: Caller,
    api_settings: Settings,
    engine: Engine,
    fake: FakeGateway,
) -> None:
    address = {**ADDRESS, "line2": f"flat 3 ({FAILED_ATTEMPT_MARK})"}
    order = split_order(client, admin, api_settings, address=address)
    make_shipments(engine, api_settings, order.order_id)
    ids = [s["id"] for s in shipments_of(client, order.headers, order.order_id)]
    deliver_all(client, ops, api_settings, ship_all(client, ops, ids))

    tracking = client.get(f"/v1/orders/{order.order_id}/tracking", headers=order.headers).json()
    scans = [s["status"] for s in tracking["shipments"][0]["scans"]]
    assert scans == [
        "IN_TRANSIT",
        "OUT_FOR_DELIVERY",
        "FAILED_ATTEMPT",
        "OUT_FOR_DELIVERY",
        "DELIVERED",
    ]
    assert tracking["status"] == "DELIVERED"
    delivered = [e for e in outbox_events(engine, key=ids[0]) if isinstance(e, ShipmentDelivered)]
    assert [e.attempts for e in delivered] == [2]


def test_a_cancelled_order_cancels_its_shipments_and_ops_cannot_ship_them(
    client: TestClient,
    admin: Caller,
    ops: Caller,
    api_settings: Settings,
    engine: Engine,
    fake: FakeGateway,
) -> None:
    order = split_order(client, admin, api_settings)
    make_shipments(engine, api_settings, order.order_id)
    first, _second = [s["id"] for s in shipments_of(client, order.headers, order.order_id)]
    assert client.post(f"/v1/ops/shipments/{first}/pick", headers=ops.headers).is_success
    cancel = client.post(f"/v1/orders/{order.order_id}/cancel", headers=order.headers)
    assert cancel.status_code == 200, cancel.text

    refused = client.post(f"/v1/ops/shipments/{first}/pack", json=PARCEL, headers=ops.headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "ORDER_CLOSED"
    # The consumer hears of the cancel and cancels what is left; once.
    closed = order_event(engine, order.order_id, "OrderStatusChanged")
    intake = ShipmentIntake(engine, api_settings)
    assert intake.order_closed(closed.id, order.order_id, "order cancelled") == 1
    assert intake.order_closed(closed.id, order.order_id, "order cancelled") == 0
    assert [r["status"] for r in _shipment_rows(engine, order.order_id)] == ["CANCELLED"] * 2


def test_lines_no_warehouse_held_join_the_shipment_of_the_orders_warehouse(
    client: TestClient, admin: Caller, api_settings: Settings, engine: Engine, fake: FakeGateway
) -> None:
    order_id, warehouse, untracked = mixed_order(client, admin, api_settings)
    assert make_shipments(engine, api_settings, order_id) == 1
    (row,) = _shipment_rows(engine, order_id)
    assert row["warehouse_id"] == warehouse
    with engine.connect() as conn:
        lines = conn.execute(
            sa.select(shipment_lines.c.sku, shipment_lines.c.quantity).where(
                shipment_lines.c.shipment_id == row["id"]
            )
        ).all()
    assert sorted(lines) == sorted([(untracked, 2), (untracked.replace("-U", "-T"), 1)])


def test_tracking_is_the_buyers_alone_and_ops_routes_answer_404_for_unknown_shipments(
    client: TestClient, admin: Caller, ops: Caller, api_settings: Settings, fake: FakeGateway
) -> None:
    order_id, _warehouse, _sku = mixed_order(client, admin, api_settings)
    stranger = token_headers(api_settings)
    assert client.get(f"/v1/orders/{order_id}/tracking", headers=stranger).status_code == 404
    unknown = str(uuid.uuid4())
    assert client.get(f"/v1/ops/shipments/{unknown}", headers=ops.headers).status_code == 404
    for step in ("pick", "ship"):
        assert (
            client.post(f"/v1/ops/shipments/{unknown}/{step}", headers=ops.headers).status_code
            == 404
        )
    page = client.get(
        "/v1/ops/warehouses/WH-NONE/picklist", params={"cursor": "x"}, headers=ops.headers
    )
    assert page.status_code == 422 and page.json()["error"]["code"] == "INVALID_CURSOR"
