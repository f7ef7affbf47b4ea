"""The facts the models learn from, each defined once, read from the lake.

Where a gold mart holds the same fact, the mart is read as soon as it exists and silver until
then, so a fact has one definition (the mart's, once dbt builds it):
- purchases: `gold.fct_order_lines` (customer, SKU, order, order date) ← `silver.order_items`;
- products: `gold.dim_products` (category path, brand, price) ← `silver.products`;
- daily demand per SKU: `gold.demand_daily` (units, prices, promotions, stockouts) ←
  order lines, `silver.product_changes` and `silver.inventory_movements`.
Facts no mart holds are read from silver only: views (`silver.product_views`), cart adds
(`silver.cart_events`), wishlist adds (`silver.wishlist_events`), and demand per SKU x
warehouse (sales adjustments in `silver.inventory_movements`, since order lines carry no
warehouse).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import lake_io
from shoplake.lake import (
    CART_EVENTS,
    INVENTORY_MOVEMENTS,
    ORDER_ITEMS,
    PRODUCT_CHANGES,
    PRODUCT_VIEWS,
    PRODUCTS,
    TABLES,
    WISHLIST_EVENTS,
)

INTERACTION_COLUMNS = ["user_id", "sku", "kind", "event_time", "session_id", "order_id"]
PRODUCT_COLUMNS = ["sku", "name", "category", "brand", "price_cents", "status"]
DEMAND_COLUMNS = [
    "sku",
    "warehouse_id",
    "date",
    "units",
    "list_price_cents",
    "paid_price_cents",
    "promotion_active",
    "stocked_out",
]
ALL_WAREHOUSES = "ALL"


def _mart(name: str, lake_root: str) -> pd.DataFrame | None:
    """A gold mart's rows when the gold layer declares and has built it, else None."""
    table = TABLES.get(name)
    if table is None or not lake_io.exists(table, lake_root):
        return None
    return lake_io.read(table, lake_root)


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True)


def interactions(lake_root: str) -> pd.DataFrame:
    """Every signed-in shopper's view, wishlist add, cart add and purchase of a SKU."""
    views = lake_io.read(PRODUCT_VIEWS, lake_root, ["user_id", "sku", "event_time", "session_id"])
    views = views.dropna(subset=["user_id"]).assign(kind="view", order_id=None)
    carts = lake_io.read(CART_EVENTS, lake_root, ["user_id", "sku", "event_time", "action"])
    carts = carts[(carts.action == "ADD")].dropna(subset=["user_id", "sku"])
    carts = carts.drop(columns="action").assign(kind="cart", session_id=None, order_id=None)
    wishes = lake_io.read(WISHLIST_EVENTS, lake_root, ["user_id", "sku", "event_time", "action"])
    wishes = wishes[wishes.action == "ADD"].drop(columns="action")
    wishes = wishes.assign(kind="wishlist", session_id=None, order_id=None)
    bought = purchases(lake_root).assign(kind="purchase", session_id=None)
    frames = [f[INTERACTION_COLUMNS] for f in (views, carts, wishes, bought) if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in INTERACTION_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    out["event_time"] = _utc(out.event_time)
    return out


def purchases(lake_root: str) -> pd.DataFrame:
    """One row per order line: user_id, sku, order_id, event_time, quantity, prices."""
    mart = _mart("gold.fct_order_lines", lake_root)
    if mart is not None:
        frame = mart.rename(columns={"customer_id": "user_id"})
        frame["event_time"] = _utc(frame.order_date)
        frame["paid_cents"] = frame.line_total_cents
    else:
        frame = lake_io.read(ORDER_ITEMS, lake_root)
        frame["event_time"] = _utc(frame.event_time)
        frame["paid_cents"] = frame.line_total_cents
    frame = frame.dropna(subset=["user_id", "sku"])
    return frame[
        ["user_id", "sku", "order_id", "event_time", "quantity", "unit_price_cents", "paid_cents"]
    ]


def products(lake_root: str) -> pd.DataFrame:
    """The catalog: SKU, name, category path ('shoes/running'), brand, price, status."""
    mart = _mart("gold.dim_products", lake_root)
    if mart is not None:
        frame = mart.copy()
        frame["category"] = frame.category_path.fillna("")
    else:
        frame = lake_io.read(PRODUCTS, lake_root)
        frame["category"] = [
            "/".join(path) if path is not None and len(path) else "" for path in frame.category_path
        ]
    return frame[PRODUCT_COLUMNS].reset_index(drop=True)


@dataclass(frozen=True)
class RecsData:
    """What the recommendation models learn from."""

    interactions: pd.DataFrame
    products: pd.DataFrame

    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.interactions.event_time.max())


def recs_data(lake_root: str) -> RecsData:
    return RecsData(interactions(lake_root), products(lake_root))


# ---------------------------------------------------------------- demand


def _price_history(lake_root: str) -> pd.DataFrame:
    changes = lake_io.read(PRODUCT_CHANGES, lake_root, ["sku", "event_time", "price_cents"])
    changes = changes.dropna(subset=["price_cents"])
    changes["date"] = _utc(changes.event_time).dt.tz_localize(None).dt.normalize()
    return changes.sort_values("event_time").groupby(["sku", "date"], as_index=False).last()


def _stock_by_day(lake_root: str) -> pd.DataFrame:
    """Available units at the end of each day with a movement, per SKU x warehouse."""
    moves = lake_io.read(
        INVENTORY_MOVEMENTS,
        lake_root,
        [
            "sku",
            "warehouse_id",
            "event_time",
            "on_hand",
            "reserved",
            "movement",
            "reason",
            "on_hand_delta",
        ],
    )
    moves["date"] = _utc(moves.event_time).dt.tz_localize(None).dt.normalize()
    return moves.sort_values("event_time")


def _grid(
    frame: pd.DataFrame, keys: list[str], start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Every key x every day from start to end, the frame's values on it (missing → NaN)."""
    days = pd.date_range(start, end, freq="D")
    combos = frame[keys].drop_duplicates()
    full = combos.merge(pd.DataFrame({"date": days}), how="cross")
    return full.merge(frame, on=[*keys, "date"], how="left")


def daily_demand(lake_root: str, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Units ordered per SKU and day (warehouse 'ALL') and per SKU x warehouse and day, with
    the list price, the average paid price, a promotion flag and a stockout flag; every day
    from a series' first sale to `as_of` (zeros where nothing sold)."""
    lines = purchases(lake_root)
    if lines.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DEMAND_COLUMNS})
    lines["date"] = lines.event_time.dt.tz_localize(None).dt.normalize()
    end = as_of.tz_localize(None) if as_of is not None and as_of.tzinfo else as_of
    end = pd.Timestamp(end or lines.date.max()).normalize()
    start = lines.date.min()
    per_sku = lines.groupby(["sku", "date"], as_index=False).agg(
        units=("quantity", "sum"),
        paid_cents=("paid_cents", "sum"),
        gross_cents=(
            "unit_price_cents",
            lambda s: float((s * lines.loc[s.index, "quantity"]).sum()),
        ),
    )
    grid = _grid(per_sku, ["sku"], start, end)
    grid["units"] = grid.units.fillna(0.0)
    prices = _price_history(lake_root)
    grid = grid.merge(prices[["sku", "date", "price_cents"]], on=["sku", "date"], how="left")
    grid = grid.sort_values(["sku", "date"])
    grid["list_price_cents"] = grid.groupby("sku").price_cents.ffill()
    unit_gross = grid.gross_cents / grid.units.where(grid.units > 0)
    grid["list_price_cents"] = grid.list_price_cents.fillna(unit_gross)
    grid["list_price_cents"] = grid.groupby("sku").list_price_cents.transform(
        lambda s: s.ffill().bfill()
    )
    paid = grid.paid_cents / grid.units.where(grid.units > 0)
    grid["paid_price_cents"] = paid.fillna(grid.list_price_cents)
    grid["promotion_active"] = (grid.paid_price_cents < 0.98 * grid.list_price_cents).astype(bool)

    moves = _stock_by_day(lake_root)
    by_wh = pd.DataFrame(columns=DEMAND_COLUMNS)
    if not moves.empty:
        level = moves.groupby(["sku", "warehouse_id", "date"], as_index=False).last()
        level["available"] = level.on_hand - level.reserved
        wgrid = _grid(
            level[["sku", "warehouse_id", "date", "available"]], ["sku", "warehouse_id"], start, end
        ).sort_values(["sku", "warehouse_id", "date"])
        wgrid["available"] = wgrid.groupby(["sku", "warehouse_id"]).available.ffill()
        sold = moves[(moves.movement == "ADJUSTED") & (moves.reason == "sale")]
        sold = (
            sold.assign(units=-sold.on_hand_delta)
            .groupby(["sku", "warehouse_id", "date"], as_index=False)
            .units.sum()
        )
        wgrid = wgrid.merge(sold, on=["sku", "warehouse_id", "date"], how="left")
        wgrid["units"] = wgrid.units.fillna(0.0)
        wgrid["stocked_out"] = wgrid.available.fillna(1) <= 0
        sku_out = wgrid.groupby(["sku", "date"]).available.sum(min_count=1).reset_index()
        grid = grid.merge(sku_out, on=["sku", "date"], how="left")
        grid["stocked_out"] = grid.available.fillna(1) <= 0
        prices_of = grid[
            ["sku", "date", "list_price_cents", "paid_price_cents", "promotion_active"]
        ]
        by_wh = wgrid.merge(prices_of, on=["sku", "date"], how="left")
        by_wh = by_wh[by_wh.units.groupby([by_wh.sku, by_wh.warehouse_id]).transform("sum") > 0]
    else:
        grid["stocked_out"] = False
    grid["warehouse_id"] = ALL_WAREHOUSES
    out = pd.concat([grid[DEMAND_COLUMNS], by_wh[DEMAND_COLUMNS]], ignore_index=True)
    out["units"] = out.units.astype(float)
    out["stocked_out"] = out.stocked_out.astype(bool)
    return out


def stock_levels(lake_root: str) -> pd.DataFrame:
    """The latest on-hand and reserved units per SKU x warehouse."""
    moves = _stock_by_day(lake_root)
    if moves.empty:
        return pd.DataFrame(columns=["sku", "warehouse_id", "on_hand", "reserved"])
    last = moves.groupby(["sku", "warehouse_id"], as_index=False).last()
    return last[["sku", "warehouse_id", "on_hand", "reserved"]].astype(
        {"on_hand": np.int64, "reserved": np.int64}
    )
