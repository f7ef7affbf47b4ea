"""The pricing engine: pure functions from lines and promotions to an explained quote. No I/O.

Money is integer minor units (cents) and percentages are basis points (1000 = 10%); no float is
ever involved. The rules, in the order they are applied:

1. Eligibility. A promotion counts when it is active, `starts_at <= now < ends_at` (no `ends_at`:
   open-ended), a fixed amount is in the quote's currency, it matches at least one line, and, if
   it carries a coupon code, that code was given (codes compare case-insensitively).
2. Scope. `sku` matches lines whose SKU is in `scope_values`; `category` matches lines whose
   category path starts with one of `scope_values` (`"shoes"` matches `shoes/running/trail`,
   `"sho"` does not); `cart` applies once to the whole cart.
3. Amounts. A percentage takes `value` basis points of what is left of the line (line scopes) or
   of the cart after line discounts (cart scope), rounded half-down to a whole cent: an exact half
   cent goes to the merchant, so no rounding ever gives away more than was promised. A fixed line
   promotion takes `value` off each unit; a fixed cart promotion takes `value` off the cart once.
   Every amount is capped at what is left, so no line and no total goes below zero.
4. Order. Line promotions apply before cart promotions; within each, the higher `priority` first,
   then the promotion id. Each promotion applies to what the previous ones left, so 10% and 10%
   make 19%, and a fixed amount never pushes a later percentage below zero.
5. Stacking. Stackable promotions all combine. A non-stackable promotion applies alone, to the
   whole cart. The engine prices each option, all stackables together or each non-stackable by
   itself, and keeps the one with the largest discount for the customer; on a tie the option
   whose best priority is higher wins, then the stackable set, then the lower promotion id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from shoplake.catalog import category_matches

BASIS_POINTS = 10_000

PromotionKind = Literal["percentage", "fixed"]
PromotionScope = Literal["sku", "category", "cart"]


class CouponStatus(StrEnum):
    """What became of the coupon a quote was asked with."""

    APPLIED = "applied"
    UNKNOWN = "unknown"
    INACTIVE = "inactive"
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    NOT_APPLICABLE = "not_applicable"  # matches no line, or another currency
    SUPERSEDED = "superseded"  # the stacking rule kept a better offer


class SkipReason(StrEnum):
    INACTIVE = "inactive"
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    OTHER_CURRENCY = "other_currency"
    NO_MATCHING_ITEMS = "no_matching_items"
    BETTER_OFFER = "better_offer"  # lost to a larger discount under the stacking rule
    NOTHING_LEFT = "nothing_left"  # earlier promotions left nothing to discount


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit_price_cents: int
    category_path: tuple[str, ...] = ()

    @property
    def subtotal_cents(self) -> int:
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True)
class Promotion:
    id: str
    name: str
    kind: PromotionKind
    value: int  # basis points for a percentage, minor units for a fixed amount
    scope: PromotionScope
    starts_at: datetime
    scope_values: tuple[str, ...] = ()
    ends_at: datetime | None = None
    currency: str | None = None
    coupon_code: str | None = None
    stackable: bool = True
    priority: int = 0
    active: bool = True


@dataclass(frozen=True)
class Adjustment:
    """A discount granted by one promotion: on one line (`sku`) or on the cart (`sku` None)."""

    promotion_id: str
    name: str
    amount_cents: int
    sku: str | None = None


@dataclass(frozen=True)
class LineResult:
    sku: str
    quantity: int
    unit_price_cents: int
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    adjustments: tuple[Adjustment, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """An eligible-looking promotion that gave nothing, and why."""

    promotion_id: str
    name: str
    reason: SkipReason


@dataclass(frozen=True)
class Quote:
    currency: str
    lines: tuple[LineResult, ...]
    cart_adjustments: tuple[Adjustment, ...]
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    skipped: tuple[Skipped, ...] = ()
    coupon_code: str | None = None
    coupon_status: CouponStatus | None = None
    applied_promotion_ids: tuple[str, ...] = field(default=())


def round_half_down(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, an exact half going down (both >= 0)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_down takes a non-negative numerator and positive denominator")
    quotient, remainder = divmod(numerator, denominator)
    return quotient + 1 if 2 * remainder > denominator else quotient


def normalize_code(code: str) -> str:
    return code.strip().upper()


def matches(promotion: Promotion, line: Line) -> bool:
    if promotion.scope == "cart":
        return True
    if promotion.scope == "sku":
        return line.sku in promotion.scope_values
    return any(category_matches(line.category_path, value) for value in promotion.scope_values)


def _ineligibility(
    promotion: Promotion, lines: Sequence[Line], currency: str, now: datetime
) -> SkipReason | None:
    if not promotion.active:
        return SkipReason.INACTIVE
    if now < promotion.starts_at:
        return SkipReason.NOT_STARTED
    if promotion.ends_at is not None and now >= promotion.ends_at:
        return SkipReason.EXPIRED
    if promotion.kind == "fixed" and promotion.currency not in (None, currency):
        return SkipReason.OTHER_CURRENCY
    if not any(matches(promotion, line) for line in lines):
        return SkipReason.NO_MATCHING_ITEMS
    return None


def _application_order(promotions: Iterable[Promotion]) -> list[Promotion]:
    return sorted(promotions, key=lambda p: (p.scope == "cart", -p.priority, p.id))


@dataclass
class _Outcome:
    promotions: list[Promotion]
    line_adjustments: dict[str, list[Adjustment]]
    cart_adjustments: list[Adjustment]

    @property
    def discount_cents(self) -> int:
        on_lines = sum(a.amount_cents for adjs in self.line_adjustments.values() for a in adjs)
        return on_lines + sum(a.amount_cents for a in self.cart_adjustments)

    @property
    def top_priority(self) -> int:
        return max((p.priority for p in self.promotions), default=0)

    def granted(self) -> set[str]:
        ids = {a.promotion_id for adjs in self.line_adjustments.values() for a in adjs}
        return ids | {a.promotion_id for a in self.cart_adjustments}


def _apply(lines: Sequence[Line], promotions: Sequence[Promotion]) -> _Outcome:
    """Apply the promotions in order, each to what the previous ones left."""
    left = {line.sku: line.subtotal_cents for line in lines}
    outcome = _Outcome(list(promotions), {line.sku: [] for line in lines}, [])
    for promotion in _application_order(promotions):
        if promotion.scope == "cart":
            cart_left = sum(left.values()) - sum(a.amount_cents for a in outcome.cart_adjustments)
            if promotion.kind == "percentage":
                amount = round_half_down(cart_left * promotion.value, BASIS_POINTS)
            else:
                amount = promotion.value
            amount = min(amount, cart_left)
            if amount > 0:
                outcome.cart_adjustments.append(
                    Adjustment(promotion.id, promotion.name, amount, None)
                )
            continue
        for line in lines:
            if not matches(promotion, line):
                continue
            if promotion.kind == "percentage":
                amount = round_half_down(left[line.sku] * promotion.value, BASIS_POINTS)
            else:
                amount = promotion.value * line.quantity
            amount = min(amount, left[line.sku])
            if amount > 0:
                left[line.sku] -= amount
                outcome.line_adjustments[line.sku].append(
                    Adjustment(promotion.id, promotion.name, amount, line.sku)
                )
    return outcome


def _check_lines(lines: Sequence[Line]) -> None:
    seen: set[str] = set()
    for line in lines:
        if line.quantity < 1:
            raise ValueError(f"line {line.sku}: quantity must be at least 1")
        if line.unit_price_cents < 0:
            raise ValueError(f"line {line.sku}: unit price must not be negative")
        if line.sku in seen:
            raise ValueError(f"line {line.sku} appears twice")
        seen.add(line.sku)


def price(
    lines: Sequence[Line],
    promotions: Sequence[Promotion],
    *,
    currency: str,
    now: datetime,
    coupon_code: str | None = None,
) -> Quote:
    """Price the lines under the promotions at `now`, with the optional coupon; explained."""
    _check_lines(lines)
    code = normalize_code(coupon_code) if coupon_code else None
    relevant = [
        p
        for p in promotions
        if p.coupon_code is None or (code is not None and normalize_code(p.coupon_code) == code)
    ]
    skipped: dict[str, Skipped] = {}
    candidates: list[Promotion] = []
    for promotion in relevant:
        reason = _ineligibility(promotion, lines, currency, now)
        if reason is None:
            candidates.append(promotion)
        else:
            skipped[promotion.id] = Skipped(promotion.id, promotion.name, reason)

    stackables = [p for p in candidates if p.stackable]
    loners = sorted((p for p in candidates if not p.stackable), key=lambda p: (-p.priority, p.id))
    options = [_apply(lines, stackables)] + [_apply(lines, [p]) for p in loners]
    # max() keeps the first of equal keys: the stackable set, then loners by priority and id.
    best = max(options, key=lambda o: (o.discount_cents, o.top_priority))

    granted = best.granted()
    chosen_ids = {p.id for p in best.promotions}
    for promotion in candidates:
        if promotion.id in granted:
            continue
        reason = SkipReason.NOTHING_LEFT if promotion.id in chosen_ids else SkipReason.BETTER_OFFER
        skipped[promotion.id] = Skipped(promotion.id, promotion.name, reason)

    line_results = []
    for line in lines:
        adjustments = tuple(best.line_adjustments[line.sku])
        discount = sum(a.amount_cents for a in adjustments)
        line_results.append(
            LineResult(
                sku=line.sku,
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
                subtotal_cents=line.subtotal_cents,
                discount_cents=discount,
                total_cents=line.subtotal_cents - discount,
                adjustments=adjustments,
            )
        )
    subtotal = sum(line.subtotal_cents for line in lines)
    discount = min(best.discount_cents, subtotal)
    return Quote(
        currency=currency,
        lines=tuple(line_results),
        cart_adjustments=tuple(best.cart_adjustments),
        subtotal_cents=subtotal,
        discount_cents=discount,
        total_cents=subtotal - discount,
        skipped=tuple(skipped[p.id] for p in relevant if p.id in skipped),
        coupon_code=code,
        coupon_status=_coupon_status(code, relevant, skipped, granted),
        applied_promotion_ids=tuple(
            p.id for p in _application_order(best.promotions) if p.id in granted
        ),
    )


_COUPON_STATUS = {
    SkipReason.INACTIVE: CouponStatus.INACTIVE,
    SkipReason.NOT_STARTED: CouponStatus.NOT_STARTED,
    SkipReason.EXPIRED: CouponStatus.EXPIRED,
    SkipReason.OTHER_CURRENCY: CouponStatus.NOT_APPLICABLE,
    SkipReason.NO_MATCHING_ITEMS: CouponStatus.NOT_APPLICABLE,
    SkipReason.NOTHING_LEFT: CouponStatus.NOT_APPLICABLE,
    SkipReason.BETTER_OFFER: CouponStatus.SUPERSEDED,
}


def _coupon_status(
    code: str | None,
    relevant: Sequence[Promotion],
    skipped: dict[str, Skipped],
    granted: set[str],
) -> CouponStatus | None:
    if code is None:
        return None
    coupon = next((p for p in relevant if p.coupon_code is not None), None)
    if coupon is None:
        return CouponStatus.UNKNOWN
    if coupon.id in granted:
        return CouponStatus.APPLIED
    return _COUPON_STATUS[skipped[coupon.id].reason]
