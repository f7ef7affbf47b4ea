"""A small shopper history with planted structure, for the models' tests, demo and benchmark.

A stand-in until the gold layer's `shoplake simulate history` is on main (then the demo chapter
and the benchmark switch to it; the models' unit tests keep this one, whose structure they
assert on). It writes silver-shaped rows straight into a lake root of its own — never the
stack's lake, whose reconciliation it would break. Planted, so a model can be checked to find:
- taste segments: each shopper's sessions stay mostly in their segment's two categories;
- long-tailed popularity inside each category (Zipf);
- complement pairs: buying the first SKU of a pair often brings the second into the order;
- weekly seasonality (weekends higher), a trend, a holiday peak, promotions with a price cut
  and a lift, stockouts that stop sales, and carts abandoned before checkout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
    WISHLIST_EVENTS,
    Table,
)

WAREHOUSES = ("WH-1", "WH-2")


@dataclass(frozen=True)
class HistorySpec:
    users: int = 400
    products: int = 80
    categories: int = 8
    segments: int = 4
    days: int = 90
    sessions_per_user: float = 12.0
    views_per_session: float = 4.0
    cart_rate: float = 0.15
    purchase_rate: float = 0.6
    complement_rate: float = 0.6
    in_segment: float = 0.9
    seed: int = 7
    end: datetime = datetime(2026, 11, 30, tzinfo=UTC)
    sku_prefix: str = "PH"
    # SKUs, names and category paths to use instead of made-up ones (the demo's catalog).
    catalog: tuple[tuple[str, str, str], ...] = ()
    # User ids to plant (the demo's shopper); the rest are made up.
    known_users: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlantedHistory:
    spec: HistorySpec
    frames: dict[str, pd.DataFrame]
    user_segment: dict[str, int]
    segment_categories: dict[int, tuple[str, str]]
    complements: dict[str, str]

    @property
    def interactions(self) -> int:
        return sum(
            len(self.frames[name])
            for name in (
                "silver.product_views",
                "silver.cart_events",
                "silver.order_items",
                "silver.wishlist_events",
            )
        )

    def write(self, lake_root: str) -> dict[str, int]:
        """Each silver table of the history written (overwritten) under `lake_root`."""
        return {
            name: lake_io.write(frame, _TABLES[name], lake_root)
            for name, frame in self.frames.items()
        }


_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        PRODUCTS,
        PRODUCT_CHANGES,
        PRODUCT_VIEWS,
        CART_EVENTS,
        WISHLIST_EVENTS,
        ORDER_ITEMS,
        INVENTORY_MOVEMENTS,
    )
}


def _frame(table: Table, **columns: object) -> pd.DataFrame:
    n = max(
        (len(v) for v in columns.values() if isinstance(v, (np.ndarray, list, pd.Series))),
        default=0,
    )
    data = {c: columns.get(c, [None] * n) for c in table.column_names}
    return pd.DataFrame(data)


def generate(spec: HistorySpec | None = None) -> PlantedHistory:
    spec = spec or HistorySpec()
    rng = np.random.default_rng(spec.seed)
    start = spec.end - timedelta(days=spec.days)

    # Catalog: categories, long-tailed popularity inside each, prices.
    if spec.catalog:
        skus = np.array([c[0] for c in spec.catalog])
        names = np.array([c[1] for c in spec.catalog])
        cat_names = sorted({c[2] for c in spec.catalog})
        category = np.array([cat_names.index(c[2]) for c in spec.catalog])
    else:
        skus = np.array([f"{spec.sku_prefix}-{i:05d}" for i in range(spec.products)])
        names = np.array([f"Planted product {i}" for i in range(spec.products)])
        cat_names = [f"dept{c // 3}/aisle{c % 3}" for c in range(spec.categories)]
        category = rng.integers(0, len(cat_names), len(skus))
    n_products, n_categories = len(skus), len(cat_names)
    popularity = np.zeros(n_products)
    for c in range(n_categories):
        members = np.flatnonzero(category == c)
        ranks = rng.permutation(len(members))
        popularity[members] = 1.0 / (ranks + 1.0) ** 1.1
    price = rng.integers(999, 19_999, n_products).astype(np.int64)

    # Taste segments over pairs of categories; complements across categories.
    segment_categories = {
        s: (int((2 * s) % n_categories), int((2 * s + 1) % n_categories))
        for s in range(spec.segments)
    }
    shuffled = rng.permutation(n_products)
    complement = np.full(n_products, -1)
    for a, b in zip(
        shuffled[0::2][: n_products // 4], shuffled[1::2][: n_products // 4], strict=False
    ):
        complement[a] = b

    users = list(spec.known_users) + [
        f"00000000-0000-4000-8000-{i:012d}" for i in range(spec.users - len(spec.known_users))
    ]
    n_users = len(users)
    segment = rng.integers(0, spec.segments, n_users)
    activity = rng.lognormal(0.0, 0.6, n_users)
    activity[: len(spec.known_users)] = activity.max()  # planted shoppers have a history

    # Days: weekly seasonality, a trend and a holiday peak.
    day_index = np.arange(spec.days)
    dates = pd.date_range(start, periods=spec.days, freq="D")
    weekday = dates.weekday.to_numpy()
    day_weight = (1.0 + 0.4 * (weekday >= 5)) * (1.0 + 0.5 * day_index / spec.days)
    day_weight[max(0, spec.days - 26) : max(0, spec.days - 22)] *= 1.8  # the holiday peak
    day_weight /= day_weight.sum()

    # Promotions (a price cut with a lift) and stockouts, as SKU x day masks.
    promo = np.zeros((n_products, spec.days), dtype=bool)
    stockout = np.zeros((n_products, spec.days), dtype=bool)
    for sku_i in rng.choice(n_products, max(1, n_products // 5), replace=False):
        first = rng.integers(0, max(1, spec.days - 7))
        promo[sku_i, first : first + 7] = True
    for sku_i in rng.choice(n_products, max(1, n_products // 10), replace=False):
        first = rng.integers(0, max(1, spec.days - 5))
        stockout[sku_i, first : first + 5] = True

    # Sessions: a user, a day, a category (mostly from the user's segment).
    n_sessions = int(spec.sessions_per_user * n_users)
    s_user = rng.choice(n_users, n_sessions, p=activity / activity.sum())
    s_day = rng.choice(spec.days, n_sessions, p=day_weight)
    pair = np.array([segment_categories[s] for s in segment[s_user]])
    own = pair[np.arange(n_sessions), rng.integers(0, 2, n_sessions)]
    s_cat = np.where(
        rng.random(n_sessions) < spec.in_segment, own, rng.integers(0, n_categories, n_sessions)
    )
    s_views = 1 + rng.poisson(spec.views_per_session - 1, n_sessions)

    # Views: items of the session's category by popularity (promotions lift them).
    v_session = np.repeat(np.arange(n_sessions), s_views)
    v_cat = s_cat[v_session]
    v_day = s_day[v_session]
    v_item = np.empty(len(v_session), dtype=np.int64)
    for c in range(n_categories):
        rows = np.flatnonzero(v_cat == c)
        members = np.flatnonzero(category == c)
        if not len(rows):
            continue
        if not len(members):
            members = np.arange(n_products)
        weights = popularity[members] / popularity[members].sum()
        v_item[rows] = members[rng.choice(len(members), len(rows), p=weights)]
    lifted = promo[v_item, v_day]
    v_time = dates[v_day] + pd.to_timedelta(rng.integers(0, 86_400, len(v_session)), unit="s")

    # Carts: some views are carted (more under a promotion), none of a stocked-out SKU.
    carted = (rng.random(len(v_session)) < spec.cart_rate * np.where(lifted, 2.0, 1.0)) & ~stockout[
        v_item, v_day
    ]
    c_idx = np.flatnonzero(carted)
    # Purchases: a share of carts is checked out (the rest abandoned); complements join.
    bought = c_idx[rng.random(len(c_idx)) < spec.purchase_rate]
    b_item = v_item[bought]
    with_comp = bought[(complement[b_item] >= 0) & (rng.random(len(bought)) < spec.complement_rate)]
    comp_item = complement[v_item[with_comp]]
    order_of = {s: f"ord-{spec.seed}-{s}" for s in np.unique(v_session[bought])}

    uid = np.array(users)
    view_frame = _frame(
        PRODUCT_VIEWS,
        event_id=[f"pv-{spec.seed}-{i}" for i in range(len(v_session))],
        event_type="shop.behaviour.ProductViewed.v1",
        event_time=v_time,
        event_date=v_time.date,
        session_id=[f"s-{spec.seed}-{s}" for s in v_session],
        user_id=uid[s_user[v_session]],
        channel="web",
        sku=skus[v_item],
    )
    view_frame["event_type"] = "shop.behaviour.ProductViewed.v1"
    view_frame["channel"] = "web"
    cart_time = v_time[c_idx] + pd.Timedelta(seconds=30)
    cart_frame = _frame(
        CART_EVENTS,
        event_id=[f"ca-{spec.seed}-{i}" for i in c_idx],
        event_time=cart_time,
        event_date=cart_time.date,
        cart_id=[f"cart-{u}" for u in uid[s_user[v_session[c_idx]]]],
        user_id=uid[s_user[v_session[c_idx]]],
        sku=skus[v_item[c_idx]],
        quantity=np.ones(len(c_idx), dtype=np.int32),
        unit_price_cents=price[v_item[c_idx]],
    )
    cart_frame["event_type"] = "shop.cart.CartItemAdded.v1"
    cart_frame["action"] = "ADD"
    cart_frame["currency"] = "EUR"

    line_session = np.concatenate([v_session[bought], v_session[with_comp]])
    line_item = np.concatenate([b_item, comp_item])
    line_day = s_day[line_session]
    discount = np.where(promo[line_item, line_day], (price[line_item] * 0.2).astype(np.int64), 0)
    line_time = dates[line_day] + pd.Timedelta(hours=20)
    order_ids = np.array([order_of[s] for s in line_session])
    line_number = pd.Series(order_ids).groupby(order_ids).cumcount().to_numpy() + 1
    quantity = 1 + (rng.random(len(line_item)) < 0.15).astype(np.int32)
    order_frame = _frame(
        ORDER_ITEMS,
        order_id=order_ids,
        line_number=line_number.astype(np.int32),
        sku=skus[line_item],
        quantity=quantity,
        unit_price_cents=price[line_item],
        discount_cents=discount * quantity,
        line_total_cents=(price[line_item] - discount) * quantity,
        user_id=uid[s_user[line_session]],
        event_id=[f"op-{o}" for o in order_ids],
        event_time=line_time,
        event_date=line_time.date,
    )
    order_frame["event_type"] = "shop.order.OrderPlaced.v1"
    order_frame["currency"] = "EUR"

    wished = np.flatnonzero(rng.random(len(v_session)) < 0.03)
    wish_frame = _frame(
        WISHLIST_EVENTS,
        event_id=[f"wl-{spec.seed}-{i}" for i in wished],
        event_time=v_time[wished],
        event_date=v_time[wished].date,
        user_id=uid[s_user[v_session[wished]]],
        sku=skus[v_item[wished]],
    )
    wish_frame["event_type"] = "shop.wishlist.WishlistItemAdded.v1"
    wish_frame["action"] = "ADD"

    created = pd.Timestamp(start - timedelta(days=1))
    paths = [cat_names[c].split("/") for c in category]
    product_frame = _frame(
        PRODUCTS,
        sku=skus,
        version=np.ones(n_products, dtype=np.int32),
        name=names,
        brand="Planted",
        category_path=paths,
        price_cents=price,
        currency="EUR",
        status="active",
        created_at=[created] * n_products,
        updated_at=[created] * n_products,
        last_event_id=[f"pc-{s}" for s in skus],
    )
    change_frame = _frame(
        PRODUCT_CHANGES,
        event_id=[f"pc-{s}" for s in skus],
        event_type=["shop.catalog.ProductCreated.v1"] * n_products,
        event_time=[created] * n_products,
        event_date=[created.date()] * n_products,
        sku=skus,
        version=np.ones(n_products, dtype=np.int32),
        name=names,
        category_path=paths,
        price_cents=price,
        status="active",
    )
    movements = _movements(spec, skus, dates, order_frame, stockout, rng)
    return PlantedHistory(
        spec=spec,
        frames={
            "silver.products": product_frame,
            "silver.product_changes": change_frame,
            "silver.product_views": view_frame,
            "silver.cart_events": cart_frame,
            "silver.wishlist_events": wish_frame,
            "silver.order_items": order_frame,
            "silver.inventory_movements": movements,
        },
        user_segment={users[i]: int(segment[i]) for i in range(n_users)},
        segment_categories={
            s: (cat_names[a], cat_names[b]) for s, (a, b) in segment_categories.items()
        },
        complements={str(skus[a]): str(skus[b]) for a, b in enumerate(complement) if b >= 0},
    )


def _movements(
    spec: HistorySpec,
    skus: np.ndarray,
    dates: pd.DatetimeIndex,
    orders: pd.DataFrame,
    stockout: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Stock per SKU x warehouse: a receipt each week, a sale adjustment per order line (from
    the first warehouse, else the second), and a drain to zero on stockout days."""
    rows: list[tuple[object, ...]] = []
    level = {(s, w): 0 for s in skus for w in WAREHOUSES}
    sales = orders.groupby(["sku", "event_date"]).quantity.sum()
    for d_i, day in enumerate(dates):
        stamp = day + pd.Timedelta(hours=6)
        for s_i, sku in enumerate(skus):
            for w in WAREHOUSES:
                if d_i % 7 == 0 and not stockout[s_i, d_i]:
                    received = int(rng.integers(5, 30))
                    level[(sku, w)] += received
                    rows.append((stamp, sku, w, "RECEIVED", received, received, None))
                if stockout[s_i, d_i] and level[(sku, w)] > 0:
                    drained = -level[(sku, w)]
                    level[(sku, w)] = 0
                    rows.append((stamp, sku, w, "ADJUSTED", drained, drained, "damaged"))
            sold = int(sales.get((sku, day.date()), 0))
            for w in WAREHOUSES:
                if sold <= 0:
                    break
                take = min(sold, level[(sku, w)]) if w != WAREHOUSES[-1] else sold
                if take <= 0:
                    continue
                level[(sku, w)] -= take
                sold -= take
                rows.append(
                    (stamp + pd.Timedelta(hours=14), sku, w, "ADJUSTED", -take, -take, "sale")
                )
    frame = pd.DataFrame(
        rows,
        columns=[
            "event_time",
            "sku",
            "warehouse_id",
            "movement",
            "quantity",
            "on_hand_delta",
            "reason",
        ],
    )
    frame = frame.sort_values("event_time", kind="stable").reset_index(drop=True)
    frame["on_hand"] = frame.groupby(["sku", "warehouse_id"]).on_hand_delta.cumsum()
    frame["on_hand"] = frame.on_hand.clip(lower=0).astype(np.int32)
    out = _frame(
        INVENTORY_MOVEMENTS,
        event_id=[f"im-{spec.seed}-{i}" for i in range(len(frame))],
        event_type=np.where(
            frame.movement == "RECEIVED",
            "shop.inventory.StockReceived.v1",
            "shop.inventory.StockAdjusted.v1",
        ),
        event_time=frame.event_time,
        event_date=frame.event_time.dt.date,
        sku=frame.sku,
        warehouse_id=frame.warehouse_id,
        movement=frame.movement,
        quantity=frame.quantity.abs().astype(np.int32),
        on_hand_delta=frame.on_hand_delta.astype(np.int32),
        reserved_delta=np.zeros(len(frame), dtype=np.int32),
        on_hand=frame.on_hand,
        reserved=np.zeros(len(frame), dtype=np.int32),
        reason=frame.reason,
    )
    return out
