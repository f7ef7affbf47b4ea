"""SQL of pricing: promotions and coupon claims (and checkout's view of them)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, cast

import redis
import sqlalchemy as sa
from sqlalchemy import Connection, RowMapping
from sqlalchemy.dialects.postgresql import insert as pg_insert

from serving.catalog import service as catalog
from serving.catalog.schemas import ProductPublic
from serving.pricing.tables import coupon_redemptions, promotions
from serving.unit_of_work import SqlUnitOfWork
from shoplake.config import Settings

# A claim counts against the usage limit once an order holds it (placed, then paid): a usage
# limit counts orders, never carts, so carts that merely carry a coupon use up nothing.
_LIVE_CLAIM = coupon_redemptions.c.order_id.is_not(None)


def insert_promotion(conn: Connection, **fields: Any) -> RowMapping:
    return (
        conn.execute(
            promotions.insert().values(id=str(uuid.uuid4()), **fields).returning(*promotions.c)
        )
        .mappings()
        .one()
    )


def get_promotion(conn: Connection, promotion_id: str) -> RowMapping | None:
    return (
        conn.execute(sa.select(promotions).where(promotions.c.id == promotion_id))
        .mappings()
        .first()
    )


def list_promotions(
    conn: Connection, *, limit: int, offset: int, active: bool | None, coupon_code: str | None
) -> tuple[list[RowMapping], int]:
    conditions: list[sa.ColumnElement[bool]] = []
    if active is not None:
        conditions.append(promotions.c.active.is_(active))
    if coupon_code is not None:
        conditions.append(promotions.c.coupon_code == coupon_code)
    rows = list(
        conn.execute(
            sa.select(promotions)
            .where(*conditions)
            .order_by(promotions.c.created_at.desc(), promotions.c.id)
            .limit(limit)
            .offset(offset)
        ).mappings()
    )
    total = conn.execute(
        sa.select(sa.func.count()).select_from(promotions).where(*conditions)
    ).scalar_one()
    return rows, int(total)


def update_promotion(conn: Connection, promotion_id: str, **fields: Any) -> RowMapping:
    return (
        conn.execute(
            promotions.update()
            .where(promotions.c.id == promotion_id)
            .values(**fields, updated_at=sa.func.now())
            .returning(*promotions.c)
        )
        .mappings()
        .one()
    )


def delete_promotion(conn: Connection, promotion_id: str) -> bool:
    return conn.execute(promotions.delete().where(promotions.c.id == promotion_id)).rowcount > 0


def consumed_redemptions(conn: Connection, promotion_id: str) -> int:
    """Claims that an order used: the history a delete would erase."""
    count = conn.execute(
        sa.select(sa.func.count())
        .select_from(coupon_redemptions)
        .where(
            coupon_redemptions.c.promotion_id == promotion_id,
            coupon_redemptions.c.order_id.is_not(None),
        )
    ).scalar_one()
    return int(count)


def live_redemption_counts(conn: Connection, promotion_ids: Sequence[str]) -> dict[str, int]:
    if not promotion_ids:
        return {}
    rows = conn.execute(
        sa.select(coupon_redemptions.c.promotion_id, sa.func.count())
        .where(coupon_redemptions.c.promotion_id.in_(list(promotion_ids)), _LIVE_CLAIM)
        .group_by(coupon_redemptions.c.promotion_id)
    ).all()
    return {str(row[0]): int(row[1]) for row in rows}


def promotions_for_quote(
    conn: Connection, *, scope_keys: Sequence[str], coupon_code: str | None, now: datetime
) -> list[RowMapping]:
    """Automatic promotions running at `now` that may match (cart scope, or a SKU or category
    prefix among `scope_keys`), and the coupon's promotion whatever its state (to explain it)."""
    running = sa.and_(
        promotions.c.coupon_code.is_(None),
        promotions.c.active.is_(True),
        promotions.c.starts_at <= now,
        sa.or_(promotions.c.ends_at.is_(None), promotions.c.ends_at > now),
        sa.or_(
            promotions.c.scope == "cart",
            promotions.c.scope_values.overlap(
                sa.cast(list(scope_keys), promotions.c.scope_values.type)
            ),
        ),
    )
    condition = running
    if coupon_code is not None:
        condition = sa.or_(running, promotions.c.coupon_code == coupon_code)
    return list(conn.execute(sa.select(promotions).where(condition)).mappings())


def lock_coupon(conn: Connection, coupon_code: str) -> RowMapping | None:
    """The coupon's promotion, locked until the transaction ends: claims queue up behind it."""
    return (
        conn.execute(
            sa.select(promotions).where(promotions.c.coupon_code == coupon_code).with_for_update()
        )
        .mappings()
        .first()
    )


def promotion_by_code(conn: Connection, coupon_code: str) -> RowMapping | None:
    return (
        conn.execute(sa.select(promotions).where(promotions.c.coupon_code == coupon_code))
        .mappings()
        .first()
    )


def get_claim(conn: Connection, promotion_id: str, holder: str) -> RowMapping | None:
    return (
        conn.execute(
            sa.select(
                coupon_redemptions,
                (coupon_redemptions.c.expires_at > sa.func.now()).label("alive"),
            ).where(
                coupon_redemptions.c.promotion_id == promotion_id,
                coupon_redemptions.c.holder == holder,
            )
        )
        .mappings()
        .first()
    )


def count_live_claims(conn: Connection, promotion_id: str) -> int:
    count = conn.execute(
        sa.select(sa.func.count())
        .select_from(coupon_redemptions)
        .where(coupon_redemptions.c.promotion_id == promotion_id, _LIVE_CLAIM)
    ).scalar_one()
    return int(count)


def _expiry(ttl_s: int) -> sa.ColumnElement[Any]:
    return sa.func.now() + sa.func.make_interval(0, 0, 0, 0, 0, 0, ttl_s)


def upsert_claim(conn: Connection, promotion_id: str, holder: str, ttl_s: int) -> None:
    """Create this holder's claim, or revive it for another `ttl_s` (never one an order used)."""
    statement = pg_insert(coupon_redemptions).values(
        promotion_id=promotion_id, holder=holder, expires_at=_expiry(ttl_s)
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[coupon_redemptions.c.promotion_id, coupon_redemptions.c.holder],
            set_={"claimed_at": sa.func.now(), "expires_at": _expiry(ttl_s)},
            where=coupon_redemptions.c.order_id.is_(None),
        )
    )


def extend_live_claim(conn: Connection, promotion_id: str, holder: str, ttl_s: int) -> bool:
    """Push a live, unused claim's expiry out (the cart was touched); False when none is live."""
    result = conn.execute(
        coupon_redemptions.update()
        .where(
            coupon_redemptions.c.promotion_id == promotion_id,
            coupon_redemptions.c.holder == holder,
            coupon_redemptions.c.order_id.is_(None),
            coupon_redemptions.c.expires_at > sa.func.now(),
        )
        .values(expires_at=_expiry(ttl_s))
    )
    return result.rowcount > 0


def delete_unused_claim(conn: Connection, promotion_id: str, holder: str) -> bool:
    result = conn.execute(
        coupon_redemptions.delete().where(
            coupon_redemptions.c.promotion_id == promotion_id,
            coupon_redemptions.c.holder == holder,
            coupon_redemptions.c.order_id.is_(None),
        )
    )
    return result.rowcount > 0


def hold_coupon(conn: Connection, code: str, holder: str, order_id: str) -> str:
    """An order being placed takes one use of the coupon for its holder, if one is left:
    "held", "exhausted" (the limit is reached) or "already_used" (this holder's use went to
    another order). The promotion row stays locked until the order's transaction ends, so
    two orders racing for the last use are served one after the other."""
    row = lock_coupon(conn, code)
    if row is None:
        return "held"  # deleted since the quote: nothing to count
    promotion_id = str(row["id"])
    limit = row["usage_limit"]
    if limit is not None and count_live_claims(conn, promotion_id) >= limit:
        return "exhausted"
    statement = pg_insert(coupon_redemptions).values(
        promotion_id=promotion_id, holder=holder, expires_at=sa.func.now(), order_id=order_id
    )
    written = conn.execute(
        statement.on_conflict_do_update(
            index_elements=[coupon_redemptions.c.promotion_id, coupon_redemptions.c.holder],
            set_={"order_id": order_id},
            where=coupon_redemptions.c.order_id.is_(None),
        ).returning(coupon_redemptions.c.holder)  # (an upsert's rowcount is not reported)
    ).first()
    return "held" if written is not None else "already_used"


def release_coupon_hold(conn: Connection, order_id: str) -> None:
    """The order failed: its use of a coupon goes back (the holder's claim stays, unused)."""
    conn.execute(
        coupon_redemptions.update()
        .where(coupon_redemptions.c.order_id == order_id)
        .values(order_id=None)
    )


class CheckoutPricing(Protocol):
    """What checkout's pricing needs, inside its unit of work: live products, the promotions
    that may apply, and the use of a coupon an order holds (or gives back)."""

    def products(self, skus: Sequence[str]) -> dict[str, ProductPublic]: ...

    def promotions_for_quote(
        self, *, scope_keys: Sequence[str], coupon_code: str | None, now: datetime
    ) -> Sequence[Mapping[str, Any]]: ...

    def hold_coupon(self, code: str, holder: str, order_id: str) -> str: ...

    def release_coupon_hold(self, order_id: str) -> None: ...


class SqlCheckoutPricing:
    def __init__(self, conn: Connection, client: redis.Redis, settings: Settings) -> None:
        self.conn = conn
        self.client = client
        self.settings = settings

    @classmethod
    def on(cls, uow: SqlUnitOfWork) -> SqlCheckoutPricing:
        return cls(uow.connection, uow.redis, uow.settings)

    def products(self, skus: Sequence[str]) -> dict[str, ProductPublic]:
        # The catalog's own read (its cache first), through its service.
        return catalog.get_products(self.conn, self.client, self.settings, list(skus))

    def promotions_for_quote(
        self, *, scope_keys: Sequence[str], coupon_code: str | None, now: datetime
    ) -> Sequence[Mapping[str, Any]]:
        rows = promotions_for_quote(
            self.conn, scope_keys=scope_keys, coupon_code=coupon_code, now=now
        )
        return cast(list[Mapping[str, Any]], rows)

    def hold_coupon(self, code: str, holder: str, order_id: str) -> str:
        return hold_coupon(self.conn, code, holder, order_id)

    def release_coupon_hold(self, order_id: str) -> None:
        release_coupon_hold(self.conn, order_id)
