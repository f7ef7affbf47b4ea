"""Returns' rules: what may still come back, and refunds that add up to exactly what was paid
however the units come back (cart discounts shared pro rata, shipping with the last unit)."""

from __future__ import annotations

import random

import pytest

from serving.returns.domain import (
    OrderLine,
    check_request,
    covers_order,
    refund_cents,
    returnable,
    units,
)

LINES = [OrderLine("A", 3, 2_999), OrderLine("B", 1, 1_000), OrderLine("C", 2, 0)]


def test_what_may_still_come_back_is_what_was_bought_minus_earlier_claims() -> None:
    left = returnable(LINES, [("A", 1), ("A", 1), ("B", 1)])
    assert left == {"A": 1, "B": 0, "C": 2}
    problems = check_request([("A", 2), ("Z", 1), ("C", 1), ("C", 1)], left)
    assert [(p.sku, p.reason, p.returnable) for p in problems] == [
        ("A", "too_many", 1),
        ("Z", "not_in_order", 0),
        ("C", "duplicate", 2),
    ]
    assert check_request([("A", 1), ("C", 2)], left) == []


def test_one_return_of_everything_refunds_the_whole_payment() -> None:
    everything = {"A": 3, "B": 1, "C": 2}
    assert (
        refund_cents(
            lines=LINES,
            goods_paid_cents=3_499,  # 3,999 of goods less a 500 cart coupon
            shipping_cents=695,
            refunded_before={},
            this_return=everything,
        )
        == 3_499 + 695
    )
    assert covers_order(LINES, everything) and not covers_order(LINES, {"A": 3})


def test_a_partial_return_refunds_its_share_and_no_shipping() -> None:
    # One A is 2,999 / 3 of 3,999 goods: a third of 75 % of what was paid for the goods.
    amount = refund_cents(
        lines=LINES,
        goods_paid_cents=3_499,
        shipping_cents=695,
        refunded_before={},
        this_return={"A": 1},
    )
    assert amount == (3_499 * 2_999) // (3 * 3_999)


@pytest.mark.parametrize("seed", range(25))
def test_refunds_in_any_split_and_order_add_up_exactly(seed: int) -> None:
    rng = random.Random(seed)
    lines = [
        OrderLine(f"S{i}", rng.randint(1, 5), rng.randint(0, 50_000))
        for i in range(rng.randint(1, 5))
    ]
    goods = rng.randint(0, sum(line.total_cents for line in lines))
    shipping = rng.randint(0, 2_000)
    pieces = [(line.sku, 1) for line in lines for _ in range(line.quantity)]
    rng.shuffle(pieces)
    returns: list[dict[str, int]] = []
    refunded: dict[str, int] = {}
    total = 0
    while pieces:  # split the units into returns of random sizes
        size = rng.randint(1, len(pieces))
        returns.append(units(pieces[:size]))
        pieces = pieces[size:]
    for this in returns:
        amount = refund_cents(
            lines=lines,
            goods_paid_cents=goods,
            shipping_cents=shipping,
            refunded_before=refunded,
            this_return=this,
        )
        assert amount >= 0
        total += amount
        refunded = units([*refunded.items(), *this.items()])
    assert total == goods + shipping
