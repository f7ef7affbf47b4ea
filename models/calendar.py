"""What is known ahead about the days to forecast: the planned promotions and the shopping
holidays.

A forecast may use a feature for the days it forecasts only if the feature is known on the
day the forecast is made. Prices paid are not (they are known once the orders exist), but the
promotions are: merchandising creates them days or weeks before they start, and the lake holds
each one's scope and dates from the moment it is created (`silver.promotion_events`). The
shopping holidays are on the calendar years ahead; `dbt/seeds/shopping_holidays.csv` is their
one list (the marts' `dim_date` reads the same seed).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from models import lake_io
from models.features import products
from shoplake.catalog import category_matches
from shoplake.config import REPO_ROOT
from shoplake.lake import PROMOTION_EVENTS

HOLIDAYS_SEED = REPO_ROOT / "dbt" / "seeds" / "shopping_holidays.csv"
CALENDAR_COLUMNS = ["sku", "date", "discount"]
BASIS_POINTS = 10_000
PROMOTION_COLUMNS = [
    "promotion_id",
    "event_time",
    "action",
    "kind",
    "value",
    "scope",
    "scope_values",
    "starts_at",
    "ends_at",
    "active",
    "coupon_code",
]
# An open-ended promotion is planned this far ahead: past any forecast's horizon.
OPEN_ENDED = pd.Timedelta(days=366)


def latest_promotions(changes: pd.DataFrame) -> pd.DataFrame:
    """Each promotion as it stands after its latest change; deleted and paused ones left out."""
    if changes.empty:
        return changes
    latest = changes.sort_values("event_time").groupby("promotion_id", as_index=False).last()
    live = (latest.action != "DELETED") & latest.active.fillna(True).astype(bool)
    return latest[live].reset_index(drop=True)


def _naive_utc(moment: object) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def _days(starts_at: object, ends_at: object) -> pd.DatetimeIndex:
    """The UTC days a promotion is live on, a day it starts or ends within included."""
    first = _naive_utc(starts_at)
    end = first + OPEN_ENDED if pd.isna(ends_at) else _naive_utc(ends_at)
    return pd.date_range(first.normalize(), (end - pd.Timedelta(1)).normalize(), freq="D")


def promotion_calendar(promotions: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """Per SKU and day, the largest percentage off a live promotion plans (0.2 = 20 % off).

    `promotions` are the latest states (`latest_promotions`); `catalog` has `sku` and
    `category` ('shoes/running'). SKU and category promotions match as the pricing engine
    matches them. Cart-wide promotions, fixed amounts off (whose share of a price depends on
    the basket) and promotions behind a coupon code change no shelf price, so they are left out.
    """
    paths = {
        str(sku): tuple(str(c).split("/"))
        for sku, c in zip(catalog.sku, catalog.category, strict=True)
    }
    rows: list[tuple[str, pd.Timestamp, float]] = []
    for promo in promotions.itertuples():
        if promo.kind != "percentage" or promo.scope not in ("sku", "category"):
            continue
        if isinstance(promo.coupon_code, str) and promo.coupon_code:
            continue
        values = [str(v) for v in (promo.scope_values if promo.scope_values is not None else ())]
        if promo.scope == "sku":
            skus = [sku for sku in values if sku in paths]
        else:
            skus = [
                sku
                for sku, path in paths.items()
                if any(category_matches(path, value) for value in values)
            ]
        discount = float(promo.value) / BASIS_POINTS
        rows.extend(
            (sku, day, discount) for day in _days(promo.starts_at, promo.ends_at) for sku in skus
        )
    frame = pd.DataFrame(rows, columns=CALENDAR_COLUMNS)
    if frame.empty:
        return frame.astype({"sku": str, "date": "datetime64[ns]", "discount": float})
    # Where several promotions cover a product on one day, the largest stands for the day:
    # how they stack depends on the basket, which a daily series does not have.
    return frame.groupby(["sku", "date"], as_index=False).discount.max()


def planned_promotions(lake_root: str, catalog: pd.DataFrame) -> pd.DataFrame:
    """The lake's promotion calendar (see `promotion_calendar`)."""
    if lake_io.exists(PROMOTION_EVENTS, lake_root):
        changes = lake_io.read(PROMOTION_EVENTS, lake_root, PROMOTION_COLUMNS)
    else:  # no promotion ever created: an empty calendar of the same columns and types
        changes = pd.DataFrame(columns=PROMOTION_COLUMNS)
    return promotion_calendar(latest_promotions(changes), catalog)


def shopping_holidays(path: Path = HOLIDAYS_SEED) -> pd.DataFrame:
    """The shopping holidays by day: `date` and `holiday_name`."""
    seed = pd.read_csv(path, parse_dates=["holiday_date"])
    return seed.rename(columns={"holiday_date": "date"})[["date", "holiday_name"]]


class KnownAhead:
    """The features known for any day, past or future, put beside a frame of series and days:
    `discount`, the planned share off (0 where no promotion is planned), and `holiday`, 1 on a
    shopping holiday."""

    FEATURES = ("discount", "holiday")

    def __init__(self, promotions: pd.DataFrame, holidays: pd.DataFrame) -> None:
        self.promotions = promotions.rename(columns={"sku": "unique_id", "date": "ds"})[
            ["unique_id", "ds", "discount"]
        ].astype({"unique_id": str, "ds": "datetime64[ns]", "discount": float})
        self.holiday_days = set(pd.to_datetime(holidays.date).dt.normalize())

    @classmethod
    def nothing(cls) -> KnownAhead:
        """No promotion planned and no holiday: what a forecast knows without a calendar."""
        return cls(pd.DataFrame(columns=CALENDAR_COLUMNS), pd.DataFrame(columns=["date"]))

    def annotate(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` (unique_id, ds, ...) with the two features added."""
        out = frame.merge(self.promotions, on=["unique_id", "ds"], how="left")
        out["discount"] = out.discount.fillna(0.0).astype(float)
        out["holiday"] = out.ds.isin(self.holiday_days).astype(float)
        return out


def known_ahead(lake_root: str) -> KnownAhead:
    """The lake's promotion calendar over its catalog, and the shopping holidays."""
    return KnownAhead(planned_promotions(lake_root, products(lake_root)), shopping_holidays())
