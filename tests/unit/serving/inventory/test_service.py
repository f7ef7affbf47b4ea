"""The stock ledger's use cases on the in-memory unit of work: reservations all or nothing
across warehouses, release and sale exactly once, the sweep of expired holds, and the events
each change records (or not, when its unit rolls back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from serving.errors import ApiError
from serving.inventory import service as inventory
from serving.inventory.domain import AlreadyReserved, NotReserved, OutOfStock, Reservation
from tests.support.fakes import FakeGateway
from tests.support.unit_of_work import MoneyPaths, money_paths

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


@pytest.fixture
def shop() -> MoneyPaths:
    shop = money_paths(FakeGateway())
    shop.sell("SOCK", units={"w1": 3, "w2": 3})
    shop.sell("SCARF", units={"w1": 1})
    return shop


def reserve(
    shop: MoneyPaths, order_id: str, lines: list[tuple[str, int]], expires: datetime = LATER
) -> list[Reservation]:
    with shop.uow:
        held = inventory.reserve(shop.uow, order_id, lines, expires)
        shop.uow.commit()
    return held


def test_a_line_is_split_over_warehouses_in_order(shop: MoneyPaths) -> None:
    held = reserve(shop, "o1", [("SOCK", 5)])

    assert [(r.warehouse_id, r.quantity) for r in held] == [("w1", 3), ("w2", 2)]
    assert (shop.inventory.level("SOCK", "w1"), shop.inventory.level("SOCK", "w2")) == (
        (3, 3),
        (3, 2),
    )
    assert shop.uow.event_names("SOCK") == ["StockReserved", "OutOfStock", "StockReserved"]


def test_a_whole_line_comes_from_the_first_warehouse_that_holds_it(shop: MoneyPaths) -> None:
    shop.inventory.put("SOCK", "w1", 1)
    held = reserve(shop, "o1", [("SOCK", 2)])
    assert [(r.warehouse_id, r.quantity) for r in held] == [("w2", 2)]


def test_an_order_is_reserved_whole_or_not_at_all_even_if_the_caller_goes_on(
    shop: MoneyPaths,
) -> None:
    with shop.uow:
        with pytest.raises(OutOfStock) as raised:
            inventory.reserve(shop.uow, "o1", [("SOCK", 2), ("SCARF", 2), ("UNTRACKED", 1)], LATER)
        # The savepoint undid the SOCK hold; the unit itself is still usable.
        assert shop.inventory.totals("SOCK") == (6, 0)
        assert shop.inventory.holds == [] and shop.inventory.movement_rows == []
        shop.uow.commit()
    assert raised.value.skus == ["SCARF"]
    assert shop.uow.events == []

    held = reserve(shop, "o1", [("SOCK", 2), ("SCARF", 1), ("UNTRACKED", 1)])
    assert sorted((r.sku, r.quantity) for r in held) == [("SCARF", 1), ("SOCK", 2)]
    with pytest.raises(AlreadyReserved):
        reserve(shop, "o1", [("SOCK", 1)])


def test_a_unit_left_without_commit_holds_nothing(shop: MoneyPaths) -> None:
    with shop.uow:
        inventory.reserve(shop.uow, "o1", [("SOCK", 2)], LATER)
    assert shop.inventory.totals("SOCK") == (6, 0)
    assert shop.inventory.holds == [] and shop.uow.events == []


def test_release_gives_the_units_back_once(shop: MoneyPaths) -> None:
    reserve(shop, "o1", [("SOCK", 4)])
    with shop.uow:
        first = inventory.release(shop.uow, "o1", "cancelled")
        second = inventory.release(shop.uow, "o1", "cancelled")
        shop.uow.commit()

    assert sorted((r.warehouse_id, r.quantity) for r in first) == [("w1", 3), ("w2", 1)]
    assert second == []
    assert shop.inventory.totals("SOCK") == (6, 0)
    assert [m["reason"] for m in shop.inventory.movement_rows].count("release") == 2


def test_commit_sale_is_idempotent_and_not_reserved_after_a_release(shop: MoneyPaths) -> None:
    reserve(shop, "paid", [("SOCK", 3)])
    reserve(shop, "cancelled", [("SOCK", 2)])
    with shop.uow:
        sold = inventory.commit_sale(shop.uow, "paid")
        again = inventory.commit_sale(shop.uow, "paid")
        inventory.release(shop.uow, "cancelled", "cancelled")
        with pytest.raises(NotReserved):
            inventory.commit_sale(shop.uow, "cancelled")
        with pytest.raises(NotReserved):
            inventory.commit_sale(shop.uow, "never-held")
        shop.uow.commit()

    assert [r.quantity for r in sold] == [3] and again == []
    assert shop.inventory.totals("SOCK") == (3, 0)
    assert [
        (m["reason"], m["on_hand_delta"], m["reserved_delta"]) for m in shop.inventory.movement_rows
    ] == [
        ("reservation", 0, 3),
        ("reservation", 0, 2),
        ("sale", -3, -3),
        ("release", 0, -2),
    ]


def test_the_sweep_releases_expired_holds_only(shop: MoneyPaths) -> None:
    reserve(shop, "late", [("SOCK", 4)], expires=NOW - timedelta(seconds=1))
    reserve(shop, "in-time", [("SCARF", 1)], expires=LATER)

    result = inventory.release_expired(shop.uow, now=NOW)

    assert result == inventory.SweepResult(orders=1, units=4)
    assert shop.inventory.totals("SOCK") == (6, 0)
    assert shop.inventory.totals("SCARF") == (1, 1)
    reasons = {h.reservation.order_id: h.release_reason for h in shop.inventory.holds}
    assert reasons == {"late": "expired", "in-time": None}
    assert inventory.release_expired(shop.uow, now=NOW) == inventory.SweepResult(0, 0)
    with shop.uow, pytest.raises(NotReserved):  # paid too late: checkout voids instead
        inventory.commit_sale(shop.uow, "late")


def test_a_sweep_refunds_the_gate_only_after_its_commit(shop: MoneyPaths) -> None:
    refunds: list[tuple[str, int]] = []

    class RecordingGate:
        def shift(self, sku: str, delta: int) -> None:
            refunds.append((sku, delta))

    reserve(shop, "late", [("SOCK", 2)], expires=NOW - timedelta(seconds=1))
    shop.uow.stores["inventory.gate"] = RecordingGate()
    with shop.uow:
        inventory.release(shop.uow, "late", "expired")
        assert refunds == []  # not before the commit
    assert refunds == []  # nor when the unit rolled back
    inventory.release_expired(shop.uow, now=NOW)
    assert refunds == [("SOCK", 2)]


def test_staff_count_and_adjust_record_one_movement_each_and_refuse_below_reserved(
    shop: MoneyPaths,
) -> None:
    reserve(shop, "o1", [("SCARF", 1)])
    level = inventory.count_stock(shop.uow, "SOCK", "w1", 10, note=None, actor_id="ops")
    assert (level.on_hand, level.available) == (10, 10)
    inventory.adjust_stock(shop.uow, "SOCK", "w1", -4, "damaged", actor_id="ops")
    assert shop.inventory.level("SOCK", "w1") == (6, 0)
    with pytest.raises(ApiError) as below:
        inventory.count_stock(shop.uow, "SCARF", "w1", 0, note=None, actor_id="ops")
    assert below.value.code == "BELOW_RESERVED" and below.value.status == 409
    with pytest.raises(ApiError) as unknown:
        inventory.receive_stock(shop.uow, "NOPE", "w1", 1, None, actor_id="ops")
    assert unknown.value.status == 404
    adjustments = [m for m in shop.inventory.movement_rows if m["reason"] == "adjustment"]
    assert [(m["on_hand_delta"], m["note"], m["actor_id"]) for m in adjustments] == [
        (7, "count", "ops"),
        (-4, "damaged", "ops"),
    ]
