"""Rules of returns, free of SQL: what may come back, until when, and what it refunds.

A shopper returns units of a DELIVERED order within the return window (counted from the
delivery); each SKU at most the quantity bought minus what earlier returns of the order already
claim. A return is REQUESTED → RECEIVED (ops booked the units back in: restocked, or written off
as damaged) → REFUNDED.

The refund is exact in integer cents: the goods paid (the order's total minus its shipping) are
shared over the units by the value of their lines (line totals, after line discounts, so cart
discounts are shared pro rata), and each refund is the difference of the cumulative share
before and after it, rounded down — so however an order comes back, in one return or many, the
refunds add up to exactly what was paid. Shipping is refunded with the return that brings the
last unit back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from math import floor


class ReturnStatus(StrEnum):
    REQUESTED = "REQUESTED"
    RECEIVED = "RECEIVED"
    REFUNDED = "REFUNDED"


class Disposition(StrEnum):
    RESTOCK = "restock"
    WRITE_OFF = "write_off"


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    total_cents: int


@dataclass(frozen=True)
class Problem:
    sku: str
    asked: int
    returnable: int
    reason: str  # not_in_order | too_many | duplicate


def window_closes(delivered_at: datetime, days: int) -> datetime:
    return delivered_at + timedelta(days=days)


def returnable(lines: Sequence[OrderLine], claimed: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Units of each SKU that may still be returned, given the (sku, quantity) that returns of
    the order already claim."""
    left = {line.sku: line.quantity for line in lines}
    for sku, quantity in claimed:
        if sku in left:
            left[sku] -= quantity
    return left


def check_request(asked: Sequence[tuple[str, int]], left: Mapping[str, int]) -> list[Problem]:
    """What is wrong with the requested (sku, quantity) lines; empty when they may come back."""
    problems, seen = [], set()
    for sku, quantity in asked:
        if sku in seen:
            problems.append(Problem(sku, quantity, left.get(sku, 0), "duplicate"))
        elif sku not in left:
            problems.append(Problem(sku, quantity, 0, "not_in_order"))
        elif quantity > left[sku]:
            problems.append(Problem(sku, quantity, left[sku], "too_many"))
        seen.add(sku)
    return problems


def _share(lines: Sequence[OrderLine], units: Mapping[str, int]) -> Fraction:
    """The fraction of the order's goods value that `units` (sku → quantity) make up."""
    total = sum(line.total_cents for line in lines)
    if total == 0:
        return Fraction(0)
    value = sum(
        Fraction(line.total_cents * units.get(line.sku, 0), line.quantity)
        for line in lines
        if line.quantity
    )
    return Fraction(value, total)


def _plus(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    merged = dict(a)
    for sku, quantity in b.items():
        merged[sku] = merged.get(sku, 0) + quantity
    return merged


def refund_cents(
    *,
    lines: Sequence[OrderLine],
    goods_paid_cents: int,
    shipping_cents: int,
    refunded_before: Mapping[str, int],
    this_return: Mapping[str, int],
) -> int:
    """What this return refunds, given the units earlier refunds of the order covered."""
    after = _plus(refunded_before, this_return)
    goods = floor(goods_paid_cents * _share(lines, after)) - floor(
        goods_paid_cents * _share(lines, refunded_before)
    )
    everything_back = all(after.get(line.sku, 0) >= line.quantity for line in lines)
    was_back = all(refunded_before.get(line.sku, 0) >= line.quantity for line in lines)
    return goods + (shipping_cents if everything_back and not was_back else 0)


def covers_order(lines: Sequence[OrderLine], returned: Mapping[str, int]) -> bool:
    """Whether every unit of the order is in `returned` (sku → quantity)."""
    return all(returned.get(line.sku, 0) >= line.quantity for line in lines)


def units(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    """(sku, quantity) pairs summed per SKU."""
    totals: dict[str, int] = {}
    for sku, quantity in rows:
        totals[sku] = totals.get(sku, 0) + quantity
    return totals
