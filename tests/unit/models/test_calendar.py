"""What the forecasts know ahead: the promotion calendar from the promotions' change table, and
the shopping holidays."""

from __future__ import annotations

from datetime import date

import pandas as pd

from models.calendar import (
    KnownAhead,
    latest_promotions,
    promotion_calendar,
    shopping_holidays,
)

CATALOG = pd.DataFrame(
    {
        "sku": ["RUN-1", "RUN-2", "HIKE-1", "TENT-1", "SHOES-KIDS-1"],
        "category": [
            "shoes/running",
            "shoes/running/trail",
            "shoes/hiking",
            "outdoor/tents",
            "shoes-kids",
        ],
    }
)


def change(
    promotion_id: str,
    *,
    at: str = "2026-11-01T09:00:00Z",
    action: str = "CREATED",
    kind: str = "percentage",
    value: int = 2000,
    scope: str = "category",
    scope_values: tuple[str, ...] = ("shoes",),
    starts_at: str = "2026-11-27T00:00:00Z",
    ends_at: str | None = "2026-11-29T00:00:00Z",
    active: bool = True,
    coupon_code: str | None = None,
) -> dict[str, object]:
    return {
        "promotion_id": promotion_id,
        "event_time": pd.Timestamp(at),
        "action": action,
        "kind": kind,
        "value": value,
        "scope": scope,
        "scope_values": list(scope_values),
        "starts_at": pd.Timestamp(starts_at),
        "ends_at": pd.Timestamp(ends_at) if ends_at else pd.NaT,
        "active": active,
        "coupon_code": coupon_code,
    }


def calendar(*changes: dict[str, object]) -> pd.DataFrame:
    return promotion_calendar(latest_promotions(pd.DataFrame(changes)), CATALOG)


def planned(frame: pd.DataFrame) -> set[tuple[str, str, float]]:
    return {(r.sku, f"{r.date:%Y-%m-%d}", r.discount) for r in frame.itertuples()}


def test_a_category_promotion_covers_its_paths_slug_by_slug_on_the_days_it_is_live() -> None:
    got = planned(calendar(change("p1")))
    # `shoes` covers shoes/running/trail but not shoes-kids; it ends at midnight on the 29th.
    assert got == {
        (sku, day, 0.2)
        for sku in ("RUN-1", "RUN-2", "HIKE-1")
        for day in ("2026-11-27", "2026-11-28")
    }


def test_a_day_a_promotion_starts_or_ends_within_counts() -> None:
    got = planned(
        calendar(
            change(
                "p1",
                scope="sku",
                scope_values=("TENT-1", "NOT-IN-CATALOG"),
                starts_at="2026-11-27T18:00:00Z",
                ends_at="2026-11-28T06:00:00Z",
            )
        )
    )
    assert got == {("TENT-1", "2026-11-27", 0.2), ("TENT-1", "2026-11-28", 0.2)}


def test_only_shelf_price_promotions_are_planned() -> None:
    got = calendar(
        change("cart", scope="cart", scope_values=()),
        change("fixed", kind="fixed", value=500),
        change("coupon", coupon_code="SAVE20"),
    )
    assert got.empty
    assert list(got.columns) == ["sku", "date", "discount"]


def test_overlapping_promotions_plan_the_largest_discount_of_the_day() -> None:
    got = planned(
        calendar(
            change("small", value=1000, scope_values=("shoes/running",)),
            change("large", value=2500, scope="sku", scope_values=("RUN-1",)),
        )
    )
    assert ("RUN-1", "2026-11-27", 0.25) in got
    assert ("RUN-2", "2026-11-27", 0.1) in got


def test_the_latest_change_of_each_promotion_stands() -> None:
    got = planned(
        calendar(
            change("moved"),
            change(
                "moved",
                at="2026-11-02T09:00:00Z",
                action="UPDATED",
                scope_values=("outdoor",),
                starts_at="2026-12-01T00:00:00Z",
                ends_at="2026-12-02T00:00:00Z",
            ),
            change("deleted", scope_values=("outdoor",)),
            change("deleted", at="2026-11-03T09:00:00Z", action="DELETED"),
            change("paused", scope_values=("outdoor",), active=False),
        )
    )
    assert got == {("TENT-1", "2026-12-01", 0.2)}


def test_an_open_ended_promotion_is_planned_past_any_horizon() -> None:
    got = calendar(change("always", scope="sku", scope_values=("TENT-1",), ends_at=None))
    assert got.date.min() == pd.Timestamp("2026-11-27")
    assert got.date.max() >= pd.Timestamp("2027-11-01")


def test_known_ahead_puts_the_discount_and_the_holiday_beside_any_day() -> None:
    known = KnownAhead(
        calendar(change("bf", scope="sku", scope_values=("RUN-1",))),
        pd.DataFrame({"date": [pd.Timestamp("2026-11-27")], "holiday_name": ["Black Friday"]}),
    )
    days = pd.DataFrame(
        {
            "unique_id": ["RUN-1", "RUN-1", "RUN-2"],
            "ds": pd.to_datetime(["2026-11-27", "2026-11-30", "2026-11-27"]),
            "y": [3.0, 1.0, 2.0],
        }
    )
    out = known.annotate(days)
    assert list(out.discount) == [0.2, 0.0, 0.0]
    assert list(out.holiday) == [1.0, 0.0, 1.0]
    assert list(out.y) == [3.0, 1.0, 2.0]
    nothing = KnownAhead.nothing().annotate(days)
    assert (nothing.discount == 0).all() and (nothing.holiday == 0).all()


def test_the_shopping_holidays_come_from_the_marts_seed() -> None:
    holidays = shopping_holidays()
    by_day = dict(zip(holidays.date.dt.date, holidays.holiday_name, strict=True))
    assert by_day[date(2026, 11, 27)] == "Black Friday"
    assert by_day[date(2026, 12, 25)] == "Christmas Day"
