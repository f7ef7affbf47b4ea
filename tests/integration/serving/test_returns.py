"""Returns on the real stack: a delivered order's units come back (restocked or written off, as
ledger movements), the refund goes through the gateway once however many ops click at once,
partial returns add up to exactly what was paid, and the order ends RETURNED then REFUNDED."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.inventory.tables import stock_movements
from serving.orders.tables import order_status_history
from serving.payments.tables import payment_refunds
from serving.security import Role
from shoplake.config import Settings
from shoplake.db import make_engine
from tests.support.callers import Caller, MakeCaller
from tests.support.factories import outbox_events
from tests.support.fakes import FakeGateway, injected_gateway
from tests.support.fulfilment import SplitOrder, delivered_order, make_shipments, split_order
from tests.support.shop_api import level, order_events, order_row, token_headers

CONCURRENT = 20


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings, pool_size=CONCURRENT + 5)
    yield engine
    engine.dispose()


@pytest.fixture
def fake(client: TestClient) -> Iterator[FakeGateway]:
    with injected_gateway(client, FakeGateway()) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def ops(make_caller: MakeCaller) -> Caller:
    return make_caller(Role.OPS)


def _ask(client: TestClient, order: SplitOrder, quantity: int, reason: str = "too dim") -> Any:
    response = client.post(
        f"/v1/orders/{order.order_id}/returns",
        json={"lines": [{"sku": order.sku, "quantity": quantity}], "reason": reason},
        headers=order.headers,
    )
    return response


def _refunds(engine: Engine, order_id: str) -> list[int]:
    with engine.connect() as conn:
        return [
            int(amount)
            for (amount,) in conn.execute(
                sa.select(payment_refunds.c.amount_cents)
                .where(payment_refunds.c.order_id == order_id)
                .order_by(payment_refunds.c.created_at)
            )
        ]


def _at_once(call: Any) -> list[Any]:
    with ThreadPoolExecutor(CONCURRENT) as pool:
        return list(pool.map(lambda _: call(), range(CONCURRENT)))


def test_a_return_is_received_once_and_refunds_once_under_20_concurrent_requests(
    client: TestClient,
    admin: Caller,
    ops: Caller,
    api_settings: Settings,
    engine: Engine,
    fake: FakeGateway,
) -> None:
    order = delivered_order(client, admin, ops, engine, api_settings)
    paid = order_row(engine, order.order_id)["total_cents"]
    asked = _ask(client, order, 4)
    assert asked.status_code == 201, asked.text
    return_id = asked.json()["id"]
    assert asked.json()["status"] == "REQUESTED" and asked.json()["window_closes_at"]
    on_hand_before = level(engine, order.sku)[0]

    receipts = _at_once(
        lambda: client.post(f"/v1/ops/returns/{return_id}/receive", headers=ops.headers)
    )
    assert Counter(r.status_code for r in receipts) == {200: CONCURRENT}
    assert level(engine, order.sku)[0] == on_hand_before + 4  # restocked once
    with engine.connect() as conn:
        restocks = conn.execute(
            sa.select(stock_movements.c.warehouse_id, stock_movements.c.on_hand_delta).where(
                stock_movements.c.reference == f"return:{return_id}"
            )
        ).all()
    assert sorted(restocks) == [(order.warehouses[0], 4)]  # where its units first came from

    refunds = _at_once(
        lambda: client.post(f"/v1/ops/returns/{return_id}/refund", headers=ops.headers)
    )
    assert Counter(r.status_code for r in refunds) == {200: CONCURRENT}
    assert {r.json()["refund_cents"] for r in refunds} == {paid}
    assert fake.calls["refund"] == 1
    assert _refunds(engine, order.order_id) == [paid]

    detail = client.get(f"/v1/orders/{order.order_id}", headers=order.headers).json()
    assert detail["status"] == "REFUNDED"
    assert detail["payment"]["status"] == "refunded" and detail["payment"]["refunded_cents"] == paid
    assert [h["to_status"] for h in detail["history"]][-2:] == ["RETURNED", "REFUNDED"]
    facts = [e.fact for e in outbox_events(engine, key=return_id)]
    assert facts == ["ReturnRequested", "ReturnReceived", "ReturnRefunded"]
    assert order_events(engine, order.order_id)["PaymentRefunded"] == 1


def test_partial_returns_refund_exactly_what_was_paid_and_a_write_off_is_booked(
    client: TestClient,
    admin: Caller,
    ops: Caller,
    api_settings: Settings,
    engine: Engine,
    fake: FakeGateway,
) -> None:
    order = delivered_order(client, admin, ops, engine, api_settings)
    row = order_row(engine, order.order_id)
    on_hand = level(engine, order.sku)[0]

    one = _ask(client, order, 1).json()["id"]
    too_many = _ask(client, order, 4)  # 3 are left to return
    assert too_many.status_code == 422
    assert too_many.json()["error"]["details"][0]["returnable"] == 3
    three = _ask(client, order, 3, reason="arrived broken").json()["id"]

    damaged = {"lines": [{"sku": order.sku, "disposition": "write_off"}]}
    response = client.post(f"/v1/ops/returns/{three}/receive", json=damaged, headers=ops.headers)
    assert response.status_code == 200, response.text
    assert response.json()["lines"][0]["disposition"] == "write_off"
    assert level(engine, order.sku)[0] == on_hand  # booked in and written off again
    assert client.post(f"/v1/ops/returns/{one}/refund", headers=ops.headers).status_code == 409
    assert client.post(f"/v1/ops/returns/{one}/receive", headers=ops.headers).is_success
    assert level(engine, order.sku)[0] == on_hand + 1

    first = client.post(f"/v1/ops/returns/{one}/refund", headers=ops.headers).json()
    status = client.get(f"/v1/orders/{order.order_id}", headers=order.headers).json()["status"]
    assert status == "RETURNED"  # every unit is back, one return still to refund
    last = client.post(f"/v1/ops/returns/{three}/refund", headers=ops.headers).json()

    goods = row["total_cents"] - row["shipping_cents"]
    assert first["refund_cents"] == goods // 4  # one unit's share of the goods
    assert first["refund_cents"] + last["refund_cents"] == row["total_cents"]  # shipping last
    assert _refunds(engine, order.order_id) == [first["refund_cents"], last["refund_cents"]]
    assert fake.calls["refund"] == 2
    with engine.connect() as conn:
        reasons = conn.execute(
            sa.select(stock_movements.c.reason, stock_movements.c.on_hand_delta).where(
                stock_movements.c.reference == f"return:{three}"
            )
        ).all()
    assert sorted(reasons) == [("adjustment", -3), ("receipt", 3)]
    with engine.connect() as conn:
        moves = conn.execute(
            sa.select(order_status_history.c.to_status)
            .where(order_status_history.c.order_id == order.order_id)
            .order_by(order_status_history.c.id)
        ).scalars()
        assert list(moves)[-2:] == ["RETURNED", "REFUNDED"]


def test_returns_are_refused_before_delivery_after_the_window_and_for_others(
    client: TestClient,
    admin: Caller,
    ops: Caller,
    api_settings: Settings,
    engine: Engine,
    fake: FakeGateway,
) -> None:
    undelivered = split_order(client, admin, api_settings)
    make_shipments(engine, api_settings, undelivered.order_id)
    early = _ask(client, undelivered, 1)
    assert early.status_code == 409 and early.json()["error"]["code"] == "ORDER_NOT_RETURNABLE"

    order = delivered_order(client, admin, ops, engine, api_settings)
    stranger = token_headers(api_settings)
    other = client.post(
        f"/v1/orders/{order.order_id}/returns",
        json={"lines": [{"sku": order.sku, "quantity": 1}], "reason": "mine now"},
        headers=stranger,
    )
    assert other.status_code == 404
    assert client.get(f"/v1/orders/{order.order_id}/returns", headers=stranger).status_code == 404
    unknown = client.post(
        f"/v1/orders/{order.order_id}/returns",
        json={"lines": [{"sku": "NOT-IN-ORDER", "quantity": 1}], "reason": "?"},
        headers=order.headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["reason"] == "not_in_order"

    with engine.begin() as conn:  # delivered long ago
        conn.execute(
            order_status_history.update()
            .where(
                order_status_history.c.order_id == order.order_id,
                order_status_history.c.to_status == "DELIVERED",
            )
            .values(at=sa.func.now() - sa.text("interval '400 days'"))
        )
    late = _ask(client, order, 1)
    assert late.status_code == 409 and late.json()["error"]["code"] == "RETURN_WINDOW_CLOSED"
    assert client.get(f"/v1/orders/{order.order_id}/returns", headers=order.headers).json() == []
    listed = client.get("/v1/ops/returns", params={"status": "REQUESTED"}, headers=ops.headers)
    assert listed.status_code == 200 and "items" in listed.json()
