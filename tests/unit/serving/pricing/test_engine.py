"""The pricing engine: integer money, scopes, windows, stacking, rounding, no negative totals."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serving.pricing.engine import (
    CouponStatus,
    Line,
    Promotion,
    Quote,
    SkipReason,
    price,
    round_half_down,
)
from shoplake.catalog import category_matches

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def promo(
    kind: str = "percentage", value: int = 1000, scope: str = "cart", **fields: Any
) -> Promotion:
    """A promotion running now, with overridable fields; ids sort in creation order."""
    number = next(_ids)
    defaults: dict[str, Any] = {
        "id": f"p{number:04d}",
        "name": f"promo {number}",
        "kind": kind,
        "value": value,
        "scope": scope,
        "starts_at": NOW - timedelta(days=1),
        "currency": "EUR" if kind == "fixed" else None,
    }
    defaults.update(fields)
    return Promotion(**defaults)


def shoe(quantity: int = 1, price: int = 10_000, sku: str = "SHOE-1") -> Line:
    return Line(sku, quantity, price, ("shoes", "running"))


def shirt(quantity: int = 1, price: int = 2_000, sku: str = "SHIRT-1") -> Line:
    return Line(sku, quantity, price, ("apparel", "shirts"))


def quote(lines: list[Line], promotions: list[Promotion], coupon: str | None = None) -> Quote:
    return price(lines, promotions, currency="EUR", now=NOW, coupon_code=coupon)


def assert_consistent(result: Quote) -> None:
    """The invariants every quote keeps, whatever the promotions."""
    assert result.subtotal_cents == sum(line.subtotal_cents for line in result.lines)
    line_discounts = sum(line.discount_cents for line in result.lines)
    cart_discounts = sum(a.amount_cents for a in result.cart_adjustments)
    assert result.discount_cents == line_discounts + cart_discounts
    assert result.total_cents == result.subtotal_cents - result.discount_cents
    assert result.total_cents >= 0
    for line in result.lines:
        assert line.discount_cents == sum(a.amount_cents for a in line.adjustments)
        assert 0 <= line.total_cents == line.subtotal_cents - line.discount_cents
        assert all(isinstance(a.amount_cents, int) and a.amount_cents > 0 for a in line.adjustments)


# ------------------------------------------------------------------ arithmetic


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(0, 7, 0), (14, 7, 2), (25, 10, 2), (26, 10, 3), (24, 10, 2), (15, 10, 1), (5, 10, 0)],
)
def test_round_half_down_sends_exact_halves_down(
    numerator: int, denominator: int, expected: int
) -> None:
    assert round_half_down(numerator, denominator) == expected


def test_round_half_down_refuses_negative_input() -> None:
    with pytest.raises(ValueError):
        round_half_down(-1, 10)


def test_no_promotions_prices_at_list_price() -> None:
    result = quote([shoe(2), shirt(3)], [])
    assert result.subtotal_cents == 2 * 10_000 + 3 * 2_000
    assert result.discount_cents == 0
    assert result.total_cents == 26_000
    assert result.cart_adjustments == ()
    assert_consistent(result)


# ------------------------------------------------------------------ percentage and fixed


def test_percentage_on_a_sku_discounts_only_that_line() -> None:
    p = promo("percentage", 1500, "sku", scope_values=("SHOE-1",))
    result = quote([shoe(2), shirt()], [p])
    shoe_line, shirt_line = result.lines
    assert shoe_line.discount_cents == 3_000  # 15% of 20000
    assert shoe_line.adjustments[0].promotion_id == p.id
    assert shoe_line.adjustments[0].name == p.name
    assert shirt_line.discount_cents == 0
    assert result.total_cents == 22_000 - 3_000
    assert result.applied_promotion_ids == (p.id,)
    assert_consistent(result)


def test_percentage_rounds_half_down_per_line() -> None:
    # 10% of 105 = 10.5 -> 10 ; 10% of 106 = 10.6 -> 11 ; 10% of 104 = 10.4 -> 10
    p = promo("percentage", 1000, "category", scope_values=("shoes",))
    lines = [
        Line("A", 1, 105, ("shoes",)),
        Line("B", 1, 106, ("shoes",)),
        Line("C", 1, 104, ("shoes",)),
    ]
    result = quote(lines, [p])
    assert [line.discount_cents for line in result.lines] == [10, 11, 10]
    assert_consistent(result)


def test_percentage_discount_never_exceeds_the_promise_by_a_half_cent() -> None:
    rng = random.Random(7)
    for _ in range(500):
        basis_points = rng.randint(1, 10_000)
        p = promo("percentage", basis_points, "cart")
        lines = [
            Line(f"S{i}", rng.randint(1, 99), rng.randint(0, 99_999))
            for i in range(rng.randint(1, 5))
        ]
        result = quote(lines, [p])
        exact_twice = 2 * result.subtotal_cents * basis_points  # 2 x promise, in 1/10000 cents
        assert 2 * 10_000 * result.discount_cents <= exact_twice + 10_000
        assert_consistent(result)


def test_full_percentage_makes_the_line_free_not_negative() -> None:
    p = promo("percentage", 10_000, "sku", scope_values=("SHOE-1",))
    result = quote([shoe(3)], [p])
    assert result.total_cents == 0
    assert result.discount_cents == 30_000


def test_fixed_line_amount_is_per_unit() -> None:
    p = promo("fixed", 500, "sku", scope_values=("SHIRT-1",))
    result = quote([shirt(3)], [p])
    assert result.lines[0].discount_cents == 1_500
    assert result.total_cents == 6_000 - 1_500


def test_fixed_amount_is_capped_at_the_unit_price() -> None:
    p = promo("fixed", 5_000, "sku", scope_values=("SHIRT-1",))
    result = quote([shirt(2, price=2_000)], [p])
    assert result.lines[0].discount_cents == 4_000
    assert result.total_cents == 0
    assert_consistent(result)


def test_fixed_cart_amount_applies_once_and_is_capped_at_the_cart() -> None:
    once = quote([shirt(3)], [promo("fixed", 700, "cart")])
    assert once.discount_cents == 700
    assert once.cart_adjustments[0].sku is None
    capped = quote([shirt(1, price=300)], [promo("fixed", 1_000, "cart")])
    assert capped.discount_cents == 300
    assert capped.total_cents == 0
    assert_consistent(capped)


def test_fixed_amount_in_another_currency_is_skipped() -> None:
    p = promo("fixed", 500, "cart", currency="USD")
    result = quote([shirt()], [p])
    assert result.discount_cents == 0
    assert result.skipped[0].reason == SkipReason.OTHER_CURRENCY


def test_cart_percentage_applies_after_line_discounts() -> None:
    line_promo = promo("fixed", 1_000, "sku", scope_values=("SHOE-1",))
    cart_promo = promo("percentage", 1000, "cart")
    result = quote([shoe(1)], [cart_promo, line_promo])
    # 10000 - 1000 = 9000; 10% of 9000 = 900
    assert result.lines[0].discount_cents == 1_000
    assert result.cart_adjustments[0].amount_cents == 900
    assert result.total_cents == 8_100
    assert_consistent(result)


# ------------------------------------------------------------------ scopes


def test_category_scope_matches_by_path_prefix_slug_by_slug() -> None:
    assert category_matches(("shoes", "running", "trail"), "shoes")
    assert category_matches(("shoes", "running", "trail"), "shoes/running")
    assert not category_matches(("shoes", "running"), "shoes/running/trail")
    assert not category_matches(("shoes-kids",), "shoes")
    assert not category_matches(("shoes",), "sho")
    assert not category_matches(("shoes",), "")


def test_category_promotion_discounts_matching_lines_only() -> None:
    p = promo("percentage", 2000, "category", scope_values=("shoes/running",))
    result = quote([shoe(1), shirt(1)], [p])
    assert [line.discount_cents for line in result.lines] == [2_000, 0]


def test_promotion_matching_no_line_is_reported_not_applied() -> None:
    p = promo("percentage", 2000, "sku", scope_values=("OTHER",))
    result = quote([shoe()], [p])
    assert result.discount_cents == 0
    assert result.skipped[0].promotion_id == p.id
    assert result.skipped[0].reason == SkipReason.NO_MATCHING_ITEMS


# ------------------------------------------------------------------ windows and state


def test_date_window_is_start_inclusive_end_exclusive() -> None:
    starts_now = promo(starts_at=NOW)
    ended_now = promo(starts_at=NOW - timedelta(days=2), ends_at=NOW)
    ends_later = promo(starts_at=NOW - timedelta(days=2), ends_at=NOW + timedelta(seconds=1))
    not_yet = promo(starts_at=NOW + timedelta(seconds=1))
    result = quote([shoe()], [starts_now, ended_now, ends_later, not_yet])
    applied = set(result.applied_promotion_ids)
    assert applied == {starts_now.id, ends_later.id}
    reasons = {s.promotion_id: s.reason for s in result.skipped}
    assert reasons == {ended_now.id: SkipReason.EXPIRED, not_yet.id: SkipReason.NOT_STARTED}


def test_inactive_promotion_is_skipped() -> None:
    p = promo(active=False)
    result = quote([shoe()], [p])
    assert result.discount_cents == 0
    assert result.skipped[0].reason == SkipReason.INACTIVE


# ------------------------------------------------------------------ stacking


def test_stackable_promotions_compound_in_priority_order() -> None:
    first = promo("percentage", 1000, "sku", scope_values=("SHOE-1",), priority=10)
    second = promo("fixed", 1_000, "sku", scope_values=("SHOE-1",), priority=5)
    result = quote([shoe()], [second, first])
    adjustments = result.lines[0].adjustments
    assert [a.promotion_id for a in adjustments] == [first.id, second.id]
    assert [a.amount_cents for a in adjustments] == [1_000, 1_000]
    # The other order: fixed first (1000), then 10% of 9000 = 900.
    flipped = quote(
        [shoe()],
        [
            promo("percentage", 1000, "sku", scope_values=("SHOE-1",), priority=1),
            promo("fixed", 1_000, "sku", scope_values=("SHOE-1",), priority=9),
        ],
    )
    assert [a.amount_cents for a in flipped.lines[0].adjustments] == [1_000, 900]


def test_ten_and_ten_percent_make_nineteen() -> None:
    result = quote([shoe()], [promo(value=1000), promo(value=1000)])
    assert result.discount_cents == 1_900


def test_best_single_non_stackable_beats_a_smaller_sum_of_stackables() -> None:
    small_a = promo("percentage", 500)
    small_b = promo("fixed", 300, "cart")
    big_alone = promo("percentage", 2500, stackable=False)
    smaller_alone = promo("percentage", 2000, stackable=False)
    result = quote([shoe()], [small_a, small_b, big_alone, smaller_alone])
    assert result.applied_promotion_ids == (big_alone.id,)
    assert result.discount_cents == 2_500
    reasons = {s.promotion_id: s.reason for s in result.skipped}
    assert reasons == {
        small_a.id: SkipReason.BETTER_OFFER,
        small_b.id: SkipReason.BETTER_OFFER,
        smaller_alone.id: SkipReason.BETTER_OFFER,
    }
    assert_consistent(result)


def test_sum_of_stackables_beats_a_smaller_non_stackable() -> None:
    a = promo("percentage", 1500)
    b = promo("percentage", 1500, "sku", scope_values=("SHOE-1",))
    alone = promo("percentage", 2500, stackable=False)
    result = quote([shoe()], [a, b, alone])
    # b (line) 1500, then a (cart) 15% of 8500 = 1275: 2775 > 2500
    assert set(result.applied_promotion_ids) == {a.id, b.id}
    assert result.discount_cents == 2_775
    assert {s.promotion_id for s in result.skipped} == {alone.id}


def test_non_stackable_never_combines_with_stackables() -> None:
    alone = promo("fixed", 5_000, "cart", stackable=False)
    tiny = promo("fixed", 1, "cart")
    result = quote([shoe()], [alone, tiny])
    assert result.applied_promotion_ids == (alone.id,)
    assert result.discount_cents == 5_000


def test_ties_go_to_the_higher_priority_then_to_the_stackable_set() -> None:
    stackable = promo("fixed", 1_000, "cart", priority=1)
    alone_high = promo("fixed", 1_000, "cart", stackable=False, priority=5)
    assert quote([shoe()], [stackable, alone_high]).applied_promotion_ids == (alone_high.id,)
    alone_same = promo("fixed", 1_000, "cart", stackable=False, priority=1)
    assert quote([shoe()], [stackable, alone_same]).applied_promotion_ids == (stackable.id,)


def test_later_promotion_finding_nothing_left_is_explained() -> None:
    free = promo("percentage", 10_000, priority=9)
    more = promo("fixed", 100, "cart", priority=1)
    result = quote([shirt()], [free, more])
    assert result.total_cents == 0
    assert {s.promotion_id: s.reason for s in result.skipped} == {more.id: SkipReason.NOTHING_LEFT}


# ------------------------------------------------------------------ coupons


def test_coupon_promotion_needs_its_code() -> None:
    coupon = promo("percentage", 2000, coupon_code="SAVE20")
    without = quote([shoe()], [coupon])
    assert without.discount_cents == 0
    assert without.coupon_status is None
    assert without.skipped == ()
    with_code = quote([shoe()], [coupon], coupon=" save20 ")
    assert with_code.discount_cents == 2_000
    assert with_code.coupon_code == "SAVE20"
    assert with_code.coupon_status == CouponStatus.APPLIED


def test_coupon_statuses_explain_why_it_did_not_apply() -> None:
    unknown = quote([shoe()], [], coupon="NOPE")
    assert unknown.coupon_status == CouponStatus.UNKNOWN
    expired = promo(
        coupon_code="OLD", ends_at=NOW - timedelta(seconds=1), starts_at=NOW - timedelta(days=9)
    )
    assert quote([shoe()], [expired], coupon="OLD").coupon_status == CouponStatus.EXPIRED
    elsewhere = promo(scope="sku", scope_values=("X",), coupon_code="ELSE")
    assert quote([shoe()], [elsewhere], coupon="ELSE").coupon_status == CouponStatus.NOT_APPLICABLE
    weak = promo(value=100, coupon_code="WEAK")
    strong_alone = promo(value=5000, stackable=False)
    assert (
        quote([shoe()], [weak, strong_alone], coupon="WEAK").coupon_status
        == CouponStatus.SUPERSEDED
    )


# ------------------------------------------------------------------ invariants


def test_no_combination_ever_goes_below_zero_or_uses_fractions() -> None:
    rng = random.Random(2026)
    for _ in range(300):
        lines = [
            Line(f"S{i}", rng.randint(1, 99), rng.randint(0, 20_000), (rng.choice(["a", "b"]), "x"))
            for i in range(rng.randint(1, 6))
        ]
        promotions = []
        for _ in range(rng.randint(0, 6)):
            kind = rng.choice(["percentage", "fixed"])
            value = rng.randint(1, 10_000) if kind == "percentage" else rng.randint(1, 50_000)
            scope = rng.choice(["sku", "category", "cart"])
            values: tuple[str, ...] = ()
            if scope == "sku":
                values = (rng.choice(lines).sku,)
            elif scope == "category":
                values = (rng.choice(["a", "b", "a/x"]),)
            promotions.append(
                promo(
                    kind,
                    value,
                    scope,
                    scope_values=values,
                    stackable=rng.random() < 0.7,
                    priority=rng.randint(0, 3),
                )
            )
        result = quote(lines, promotions)
        assert_consistent(result)
        # The engine's choice: the larger of "every stackable together" and "each
        # non-stackable alone" — each option priced on its own, where nothing is left to choose.
        stackables = [p for p in promotions if p.stackable]
        options = [quote(lines, stackables).discount_cents] + [
            quote(lines, [p]).discount_cents for p in promotions if not p.stackable
        ]
        assert result.discount_cents == max(options)
        # A stackable promotion is never lost by stacking: the set gives at least what it
        # gives alone.
        for p in stackables:
            alone = quote(lines, [p]).discount_cents
            assert options[0] >= alone, (p, options[0], alone)


@pytest.mark.parametrize(
    "bad_line",
    [Line("A", 0, 100), Line("A", 1, -1)],
)
def test_invalid_lines_are_refused(bad_line: Line) -> None:
    with pytest.raises(ValueError):
        quote([bad_line], [])


def test_duplicate_skus_are_refused() -> None:
    with pytest.raises(ValueError):
        quote([shoe(), shoe()], [])
