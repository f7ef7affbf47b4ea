"""Rules of the stock ledger (serving/inventory/domain.py) over an in-memory StockLedger."""

from __future__ import annotations

from dataclasses import replace

import pytest

from serving.inventory import domain
from serving.inventory.domain import (
    Allocation,
    BelowReserved,
    InvalidLines,
    Movement,
    MovementReason,
    NegativeStock,
    OutOfStock,
    StockLevel,
)
from shoplake.events import inventory as stock_events


class FakeLedger:
    """The StockLedger interface over a dict, with the same conditional-update semantics."""

    def __init__(self, *levels: StockLevel) -> None:
        self.levels = {(level.sku, level.warehouse_id): level for level in levels}
        self.locked: list[tuple[str, str]] = []
        self.attempts: list[tuple[str, str, int]] = []

    def warehouses_of(self, sku: str) -> list[StockLevel]:
        return sorted(
            (level for (s, _), level in self.levels.items() if s == sku),
            key=lambda level: level.warehouse_id,
        )

    def reserve_if_available(self, sku: str, warehouse_id: str, quantity: int) -> StockLevel | None:
        self.attempts.append((sku, warehouse_id, quantity))
        level = self.levels[(sku, warehouse_id)]
        if level.available < quantity:
            return None
        self.levels[(sku, warehouse_id)] = after = replace(
            level, reserved=level.reserved + quantity
        )
        return after

    def lock_level(self, sku: str, warehouse_id: str) -> StockLevel:
        self.locked.append((sku, warehouse_id))
        return self.levels[(sku, warehouse_id)]


# ---------------------------------------------------------------- stock levels


def test_available_is_on_hand_minus_reserved() -> None:
    assert StockLevel("A", "w1", on_hand=10, reserved=3).available == 7


@pytest.mark.parametrize(
    ("on_hand", "reserved", "error"),
    [(-1, 0, NegativeStock), (5, 6, BelowReserved), (5, -1, BelowReserved)],
)
def test_a_level_cannot_break_its_invariants(
    on_hand: int, reserved: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        StockLevel("A", "w1", on_hand=on_hand, reserved=reserved)


def test_adjusting_below_the_reserved_units_is_refused() -> None:
    level = StockLevel("A", "w1", on_hand=10, reserved=8)
    assert level.adjusted(-2).on_hand == 8
    with pytest.raises(BelowReserved):
        level.adjusted(-3)


def test_reserving_more_than_available_is_out_of_stock() -> None:
    level = StockLevel("A", "w1", on_hand=10, reserved=8)
    assert level.reserving(2).reserved == 10
    with pytest.raises(OutOfStock) as raised:
        level.reserving(3)
    assert raised.value.skus == ["A"]


def test_a_sale_takes_held_units_off_the_shelf() -> None:
    after = StockLevel("A", "w1", on_hand=10, reserved=4).selling(4)
    assert (after.on_hand, after.reserved, after.available) == (6, 0, 6)


def test_quantities_must_be_positive() -> None:
    level = StockLevel("A", "w1", on_hand=10)
    for change in (level.received, level.reserving, level.releasing, level.selling):
        with pytest.raises(InvalidLines):
            change(0)


def test_merge_lines_adds_duplicates_and_sorts_by_sku() -> None:
    assert domain.merge_lines([("B", 1), ("A", 2), ("B", 3)]) == [("A", 2), ("B", 4)]
    with pytest.raises(InvalidLines):
        domain.merge_lines([])
    with pytest.raises(InvalidLines):
        domain.merge_lines([("A", 0)])


# ---------------------------------------------------------------- allocation


def test_a_line_comes_whole_from_the_first_warehouse_that_holds_it() -> None:
    ledger = FakeLedger(
        StockLevel("A", "w1", on_hand=2), StockLevel("A", "w2", on_hand=5), StockLevel("A", "w3")
    )
    [allocation] = domain.allocate(ledger, [("A", 4)])
    assert (allocation.warehouse_id, allocation.quantity) == ("w2", 4)
    assert ledger.levels[("A", "w1")].reserved == 0
    assert ledger.levels[("A", "w2")].reserved == 4


def test_a_line_no_warehouse_holds_whole_is_split_in_warehouse_order() -> None:
    ledger = FakeLedger(StockLevel("A", "w2", on_hand=3), StockLevel("A", "w1", on_hand=3))
    allocations = domain.allocate(ledger, [("A", 5)])
    assert [(a.warehouse_id, a.quantity) for a in allocations] == [("w1", 3), ("w2", 2)]
    assert ledger.locked == [("A", "w1"), ("A", "w2")]


def test_lines_are_reserved_in_sku_order_so_rows_lock_in_one_order() -> None:
    ledger = FakeLedger(StockLevel("B", "w1", on_hand=5), StockLevel("A", "w1", on_hand=5))
    domain.allocate(ledger, [("B", 1), ("A", 1)])
    assert [sku for sku, _, _ in ledger.attempts] == ["A", "B"]


def test_every_short_sku_is_named() -> None:
    ledger = FakeLedger(
        StockLevel("A", "w1", on_hand=1),
        StockLevel("B", "w1", on_hand=9),
        StockLevel("C", "w1", on_hand=0),
    )
    with pytest.raises(OutOfStock) as raised:
        domain.allocate(ledger, [("C", 1), ("A", 2), ("B", 2)])
    assert raised.value.skus == ["A", "C"]
    assert raised.value.code == "OUT_OF_STOCK"


def test_untracked_skus_get_no_allocation() -> None:
    ledger = FakeLedger(StockLevel("A", "w1", on_hand=1))
    allocations = domain.allocate(ledger, [("A", 1), ("NEW", 3)])
    assert [a.sku for a in allocations] == ["A"]


def test_the_ledger_never_goes_negative_however_orders_interleave() -> None:
    ledger = FakeLedger(StockLevel("A", "w1", on_hand=10), StockLevel("A", "w2", on_hand=3))
    won = 0
    for _ in range(10):
        try:
            domain.allocate(ledger, [("A", 3)])
            won += 1
        except OutOfStock:
            pass
    assert won == 4  # three whole from w1, one whole from w2, then 1 unit left: short
    assert all(level.available >= 0 for level in ledger.levels.values())
    assert sum(level.reserved for level in ledger.levels.values()) == 12


def test_an_allocation_knows_its_level_before() -> None:
    after = StockLevel("A", "w1", on_hand=5, reserved=3)
    assert Allocation("A", "w1", 2, after).before == StockLevel("A", "w1", 5, 1)


# ---------------------------------------------------------------- events


def _types(movement: Movement) -> list[str]:
    return [type(event).__name__ for event in domain.events_of(movement)]


def test_each_movement_has_its_event() -> None:
    level = StockLevel("A", "w1", on_hand=10, reserved=2)
    assert _types(Movement(MovementReason.RECEIPT, level, level.received(5))) == ["StockReceived"]
    assert _types(
        Movement(MovementReason.RESERVATION, level, level.reserving(1), order_id="o1")
    ) == ["StockReserved"]
    assert _types(
        Movement(MovementReason.RELEASE, level, level.releasing(1), order_id="o1", note="x")
    ) == ["StockReleased"]
    assert _types(Movement(MovementReason.ADJUSTMENT, level, level.adjusted(-1))) == [
        "StockAdjusted"
    ]


def test_a_sale_is_told_as_a_release_and_an_adjustment_whose_deltas_add_up() -> None:
    before = StockLevel("A", "w1", on_hand=10, reserved=4)
    events = domain.events_of(Movement(MovementReason.SALE, before, before.selling(4), "o1"))
    released, adjusted = events
    assert isinstance(released, stock_events.StockReleased) and released.quantity == 4
    assert isinstance(adjusted, stock_events.StockAdjusted) and adjusted.delta == -4
    assert (adjusted.on_hand, adjusted.reserved) == (6, 0)


def test_out_of_stock_when_available_reaches_zero_and_back_when_it_rises() -> None:
    level = StockLevel("A", "w1", on_hand=5, reserved=2)
    emptied = level.reserving(3)
    assert _types(Movement(MovementReason.RESERVATION, level, emptied, order_id="o")) == [
        "StockReserved",
        "OutOfStock",
    ]
    refilled = emptied.received(1)
    assert _types(Movement(MovementReason.RECEIPT, emptied, refilled)) == [
        "StockReceived",
        "BackInStock",
    ]
    # staying at zero or above zero is no transition
    assert _types(Movement(MovementReason.RECEIPT, level, level.received(1))) == ["StockReceived"]


def test_events_carry_the_level_after_the_movement() -> None:
    level = StockLevel("A", "w1", on_hand=5, reserved=2)
    [event] = domain.events_of(Movement(MovementReason.RECEIPT, level, level.received(3), "o"))
    assert isinstance(event, stock_events.StockReceived)
    assert (event.sku, event.warehouse_id, event.on_hand, event.reserved) == ("A", "w1", 8, 2)
