"""Inventory against real Postgres and Redis: routes, reservations under concurrency, the gate,
expiry, and one movement row and its outbox events per change."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.cart import service as cart
from serving.inventory import service
from serving.inventory.domain import AlreadyReserved, NotReserved, OutOfStock
from serving.inventory.gate import StockGate
from serving.inventory.tables import stock_levels, stock_movements, stock_reservations
from serving.security import Role
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events import CloudEvent, EventData, parse_data
from shoplake.events import inventory as ev
from shoplake.outbox import outbox
from tests.support.callers import Caller, MakeCaller
from tests.support.unit_of_work import sql_unit

LATER = datetime.now(UTC) + timedelta(hours=1)


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings, pool_size=40)
    yield engine
    engine.dispose()


@pytest.fixture
def gate(redis_client: redis.Redis) -> StockGate:
    return StockGate(redis_client)


@pytest.fixture(scope="module")
def ops(make_caller: MakeCaller) -> Caller:
    return make_caller(Role.OPS)


def _product(client: TestClient, admin: Caller) -> str:
    sku = f"INV-{uuid.uuid4().hex[:10]}"
    body = {"sku": sku, "name": "Trail sock", "brand": "Acme", "category_path": ["socks"]}
    response = client.post(
        "/v1/admin/products", json={**body, "price_cents": 999}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    return sku


def _receive(client: TestClient, caller: Caller, sku: str, warehouse: str, units: int) -> None:
    response = client.post(
        f"/v1/admin/inventory/{sku}/{warehouse}/receipts",
        json={"quantity": units, "reference": "PO-1"},
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text


def _events(engine: Engine, sku: str) -> list[EventData]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.payload)
            .where(outbox.c.key == sku, outbox.c.topic == "shop.inventory.v1")
            .order_by(outbox.c.id)
        ).all()
    return [parse_data(CloudEvent.model_validate(row.payload)) for row in rows]


def _movements(engine: Engine, sku: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(stock_movements)
                .where(stock_movements.c.sku == sku)
                .order_by(stock_movements.c.id)
            ).all()
        )


def _level(engine: Engine, sku: str, warehouse: str = "w1") -> tuple[int, int]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(stock_levels.c.on_hand, stock_levels.c.reserved).where(
                stock_levels.c.sku == sku, stock_levels.c.warehouse_id == warehouse
            )
        ).one()
    return row.on_hand, row.reserved


def _kinds(events: list[EventData]) -> list[str]:
    return [type(event).__name__ for event in events]


# ---------------------------------------------------------------- routes


def test_staff_receive_adjust_and_count_each_change_once(
    client: TestClient, admin: Caller, ops: Caller, engine: Engine
) -> None:
    sku = _product(client, admin)
    _receive(client, ops, sku, "w1", 10)
    response = client.post(
        f"/v1/admin/inventory/{sku}/w1/adjustments",
        json={"delta": -3, "reason": "damaged"},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "sku": sku,
        "warehouse_id": "w1",
        "on_hand": 7,
        "reserved": 0,
        "available": 7,
    }
    counted = client.put(f"/v1/admin/inventory/{sku}/w1", json={"on_hand": 5}, headers=ops.headers)
    assert counted.status_code == 200 and counted.json()["on_hand"] == 5
    again = client.put(f"/v1/admin/inventory/{sku}/w1", json={"on_hand": 5}, headers=ops.headers)
    assert again.status_code == 200  # nothing changed: no movement, no event

    moves = _movements(engine, sku)
    assert [(m.reason, m.on_hand_delta, m.on_hand_after) for m in moves] == [
        ("receipt", 10, 10),
        ("adjustment", -3, 7),
        ("adjustment", -2, 5),
    ]
    assert moves[0].actor_id == ops.user_id and moves[0].reference == "PO-1"
    events = _events(engine, sku)
    # a level's first units are a rise from 0: BackInStock
    assert _kinds(events) == ["StockReceived", "BackInStock", "StockAdjusted", "StockAdjusted"]
    adjusted = [e for e in events if isinstance(e, ev.StockAdjusted)]
    assert [(e.delta, e.reason, e.on_hand) for e in adjusted] == [
        (-3, "damaged", 7),
        (-2, "count", 5),
    ]

    page = client.get(f"/v1/admin/inventory/{sku}/movements?limit=2", headers=ops.headers)
    assert page.status_code == 200
    body = page.json()
    assert [m["on_hand_after"] for m in body["items"]] == [5, 7]
    rest = client.get(
        f"/v1/admin/inventory/{sku}/movements",
        params={"cursor": body["next_cursor"]},
        headers=ops.headers,
    ).json()
    assert [m["reason"] for m in rest["items"]] == ["receipt"] and rest["next_cursor"] is None
    elsewhere = client.get(
        f"/v1/admin/inventory/{sku}-OTHER/movements",
        params={"cursor": body["next_cursor"]},
        headers=ops.headers,
    )
    assert elsewhere.status_code == 422  # a cursor of another SKU's list


def test_public_availability_per_warehouse_and_in_total(client: TestClient, admin: Caller) -> None:
    sku = _product(client, admin)
    untracked = client.get(f"/v1/inventory/{sku}")
    assert untracked.status_code == 200
    assert untracked.json() == {
        "sku": sku,
        "tracked": False,
        "in_stock": True,
        "available": None,
        "warehouses": [],
    }
    _receive(client, admin, sku, "w2", 4)
    _receive(client, admin, sku, "w1", 3)
    body = client.get(f"/v1/inventory/{sku}").json()
    assert body["available"] == 7 and body["in_stock"] is True
    assert body["warehouses"] == [
        {"warehouse_id": "w1", "available": 3},
        {"warehouse_id": "w2", "available": 4},
    ]
    assert client.get("/v1/inventory/NO-SUCH-SKU-123").status_code == 404
    assert client.get("/v1/inventory/-bad").status_code == 422


def test_admin_routes_refuse_callers_and_bad_input(
    client: TestClient, admin: Caller, customer: Caller
) -> None:
    sku = _product(client, admin)
    url = f"/v1/admin/inventory/{sku}/w1/receipts"
    assert client.post(url, json={"quantity": 1}).status_code == 401
    assert client.post(url, json={"quantity": 1}, headers=customer.headers).status_code == 403
    assert (
        client.get(f"/v1/admin/inventory/{sku}/movements", headers=customer.headers).status_code
        == 403
    )

    def post(path: str, body: dict[str, Any]) -> tuple[int, str]:
        response = client.post(path, json=body, headers=admin.headers)
        return response.status_code, response.json()["error"]["code"]

    assert post("/v1/admin/inventory/NO-SUCH-SKU-9/w1/receipts", {"quantity": 1})[0] == 404
    assert post(f"/v1/admin/inventory/{sku}/bad%20wh/receipts", {"quantity": 1})[0] == 422
    assert post(url, {"quantity": 0})[0] == 422
    assert post(url, {"quantity": 2**31})[0] == 422
    adjust = f"/v1/admin/inventory/{sku}/w1/adjustments"
    assert post(adjust, {"delta": 0, "reason": "x"})[0] == 422
    assert post(adjust, {"delta": 1, "reason": "bad\x00"})[0] == 422
    assert post(adjust, {"delta": -1, "reason": "loss"}) == (409, "NEGATIVE_STOCK")
    assert (
        client.put(
            f"/v1/admin/inventory/{sku}/w1", json={"on_hand": -1}, headers=admin.headers
        ).status_code
        == 422
    )
    assert (
        client.get("/v1/admin/inventory/NO-SUCH-SKU-9/movements", headers=admin.headers).status_code
        == 404
    )


def test_counting_below_the_reserved_units_is_a_conflict(
    client: TestClient, admin: Caller, engine: Engine
) -> None:
    sku = _product(client, admin)
    _receive(client, admin, sku, "w1", 5)
    with sql_unit(engine) as uow:
        service.reserve(uow, str(uuid.uuid4()), [(sku, 4)], LATER)
    response = client.put(
        f"/v1/admin/inventory/{sku}/w1", json={"on_hand": 3}, headers=admin.headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "BELOW_RESERVED"
    assert _level(engine, sku) == (5, 4)


# ---------------------------------------------------------------- reservations


def test_forty_concurrent_orders_for_one_hundred_units_never_oversell(
    client: TestClient, admin: Caller, engine: Engine
) -> None:
    sku = _product(client, admin)
    _receive(client, admin, sku, "w1", 100)
    start = threading.Barrier(40)
    outcomes: list[str] = []
    lock = threading.Lock()

    def order() -> None:
        start.wait()
        try:
            with sql_unit(engine) as uow:  # one order transaction per thread
                service.reserve(uow, str(uuid.uuid4()), [(sku, 5)], LATER)
            outcome = "reserved"
        except OutOfStock:
            outcome = "out of stock"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=order) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert Counter(outcomes) == {"reserved": 20, "out of stock": 20}
    assert _level(engine, sku) == (100, 100)
    moves = _movements(engine, sku)
    assert [m.reason for m in moves].count("reservation") == 20
    assert all(m.on_hand_after >= m.reserved_after >= 0 for m in moves)
    assert sorted(m.reserved_after for m in moves[1:]) == list(range(5, 101, 5))
    kinds = Counter(_kinds(_events(engine, sku)))
    assert kinds == {"StockReceived": 1, "BackInStock": 1, "StockReserved": 20, "OutOfStock": 1}
    assert client.get(f"/v1/inventory/{sku}").json()["in_stock"] is False


def test_an_order_is_reserved_whole_or_not_at_all(
    client: TestClient, admin: Caller, engine: Engine
) -> None:
    plenty, scarce, untracked = (_product(client, admin) for _ in range(3))
    _receive(client, admin, plenty, "w1", 10)
    _receive(client, admin, scarce, "w1", 1)
    order_id = str(uuid.uuid4())
    with sql_unit(engine) as uow:
        with pytest.raises(OutOfStock) as raised:
            service.reserve(uow, order_id, [(plenty, 2), (scarce, 2), (untracked, 1)], LATER)
        assert raised.value.skus == [scarce]
        # the caller's transaction is still usable and holds nothing of the failed order
        assert (
            uow.connection.execute(
                sa.select(sa.func.count()).where(stock_reservations.c.order_id == order_id)
            ).scalar()
            == 0
        )
    assert _level(engine, plenty) == (10, 0)
    assert _kinds(_events(engine, plenty)) == ["StockReceived", "BackInStock"]

    with sql_unit(engine) as uow:
        held = service.reserve(uow, order_id, [(plenty, 2), (scarce, 1), (untracked, 1)], LATER)
    assert sorted((r.sku, r.quantity) for r in held) == sorted([(plenty, 2), (scarce, 1)])
    with sql_unit(engine) as uow, pytest.raises(AlreadyReserved):
        service.reserve(uow, order_id, [(plenty, 1)], LATER)


def test_a_line_is_split_over_warehouses_in_order(
    client: TestClient, admin: Caller, engine: Engine
) -> None:
    sku = _product(client, admin)
    _receive(client, admin, sku, "w2", 3)
    _receive(client, admin, sku, "w1", 3)
    with sql_unit(engine) as uow:
        held = service.reserve(uow, str(uuid.uuid4()), [(sku, 5)], LATER)
    assert [(r.warehouse_id, r.quantity) for r in held] == [("w1", 3), ("w2", 2)]
    assert (_level(engine, sku, "w1"), _level(engine, sku, "w2")) == ((3, 3), (3, 2))


def test_sale_and_release_move_held_units_once(
    client: TestClient, admin: Caller, engine: Engine
) -> None:
    sku = _product(client, admin)
    _receive(client, admin, sku, "w1", 5)
    paid, cancelled = str(uuid.uuid4()), str(uuid.uuid4())
    with sql_unit(engine) as uow:
        service.reserve(uow, paid, [(sku, 3)], LATER)
        service.reserve(uow, cancelled, [(sku, 2)], LATER)
    with sql_unit(engine) as uow:
        assert [r.quantity for r in service.commit_sale(uow, paid)] == [3]
        assert service.commit_sale(uow, paid) == []  # idempotent
        assert [r.quantity for r in service.release(uow, cancelled, "cancelled")] == [2]
        assert service.release(uow, cancelled, "cancelled") == []  # idempotent
        with pytest.raises(NotReserved):
            service.commit_sale(uow, cancelled)
    assert _level(engine, sku) == (2, 0)
    assert [(m.reason, m.on_hand_delta, m.reserved_delta) for m in _movements(engine, sku)] == [
        ("receipt", 5, 0),
        ("reservation", 0, 3),
        ("reservation", 0, 2),
        ("sale", -3, -3),
        ("release", 0, -2),
    ]
    assert _kinds(_events(engine, sku)) == [
        "StockReceived",
        "BackInStock",
        "StockReserved",
        "StockReserved",
        "OutOfStock",
        "StockReleased",  # the sale, told as release + adjustment
        "StockAdjusted",
        "StockReleased",
        "BackInStock",
    ]


def test_expired_holds_are_swept_and_their_stock_comes_back(
    client: TestClient, admin: Caller, engine: Engine, gate: StockGate
) -> None:
    sku = _product(client, admin)
    _receive(client, admin, sku, "w1", 4)
    order_id = str(uuid.uuid4())
    with sql_unit(engine) as uow:
        service.reserve(uow, order_id, [(sku, 4)], datetime.now(UTC) - timedelta(seconds=1))
    assert _level(engine, sku) == (4, 4)
    gate.set(sku, 0)

    result = service.sweep_expired(engine, gate=gate)

    assert result.orders >= 1 and result.units >= 4
    assert _level(engine, sku) == (4, 0)
    assert gate.get(sku) == 4
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(stock_reservations).where(stock_reservations.c.order_id == order_id)
        ).one()
    assert (row.status, row.release_reason) == ("released", "expired")
    released = [e for e in _events(engine, sku) if isinstance(e, ev.StockReleased)]
    assert [(e.order_id, e.reason, e.quantity) for e in released] == [(order_id, "expired", 4)]
    assert _kinds(_events(engine, sku))[-1] == "BackInStock"
    with sql_unit(engine) as uow, pytest.raises(NotReserved):
        service.commit_sale(uow, order_id)  # paid too late: checkout must refund or re-reserve


# ---------------------------------------------------------------- the gate


def test_a_gate_set_too_high_cannot_oversell(
    client: TestClient, admin: Caller, engine: Engine, gate: StockGate
) -> None:
    sku = _product(client, admin)
    _receive(client, admin, sku, "w1", 10)
    gate.set(sku, 1_000)
    with sql_unit(engine, gate=gate) as uow, pytest.raises(OutOfStock):
        service.reserve(uow, str(uuid.uuid4()), [(sku, 11)], LATER)
    assert _level(engine, sku) == (10, 0)
    assert gate.get(sku) == 1_000  # the admitted units were refunded
    with sql_unit(engine, gate=gate) as uow:
        service.reserve(uow, str(uuid.uuid4()), [(sku, 10)], LATER)
    assert _level(engine, sku) == (10, 10) and gate.get(sku) == 990

    assert service.rebuild_gate(engine, gate) >= 1
    assert gate.get(sku) == 0


def test_a_sold_out_gate_answers_before_postgres(
    client: TestClient, admin: Caller, engine: Engine, gate: StockGate
) -> None:
    sku, other = _product(client, admin), _product(client, admin)
    _receive(client, admin, sku, "w1", 10)
    _receive(client, admin, other, "w1", 10)
    gate.set(sku, 0)
    gate.set(other, 5)
    with sql_unit(engine, gate=gate) as uow, pytest.raises(OutOfStock) as raised:
        service.reserve(uow, str(uuid.uuid4()), [(sku, 1), (other, 1)], LATER)
    assert raised.value.skus == [sku]
    assert _level(engine, sku) == (10, 0)  # Postgres was never asked
    assert gate.get(other) == 5  # the other line's admission was refunded


def test_admin_changes_move_the_gate(client: TestClient, admin: Caller, gate: StockGate) -> None:
    sku = _product(client, admin)
    _receive(client, admin, sku, "w1", 2)
    gate.set(sku, 2)
    _receive(client, admin, sku, "w1", 3)
    assert gate.get(sku) == 5


# ---------------------------------------------------------------- carts


def test_carts_see_the_ledger(
    client: TestClient, admin: Caller, customer: Caller, engine: Engine
) -> None:
    tracked, untracked = _product(client, admin), _product(client, admin)
    _receive(client, admin, tracked, "w1", 1)
    with engine.connect() as conn:
        assert cart.availability(conn, [tracked, untracked]) == {tracked: True, untracked: True}
    with sql_unit(engine) as uow:
        service.reserve(uow, str(uuid.uuid4()), [(tracked, 1)], LATER)
    with engine.connect() as conn:
        assert cart.availability(conn, [tracked, untracked]) == {tracked: False, untracked: True}
    response = client.post(
        "/v1/cart/items", json={"sku": tracked, "quantity": 1}, headers=customer.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["reason"] == "out_of_stock"
