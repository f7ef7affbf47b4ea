"""Rules of pricing: promotion administration, server-side quotes, coupon claims.

The arithmetic lives in `engine.py` (pure); this module loads live catalog prices and the
promotions that may apply, runs the engine and explains its result. Coupon claims enforce a
promotion's usage limit under concurrency: the promotion row is locked (`select ... for update`)
while the uses are counted and this holder's claim is written, so two shoppers racing for the
last use are served one after the other. A use is counted only once an order holds it (checkout
places the order): a cart that carries a coupon, signed in or anonymous, uses up nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import redis
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy import Connection, RowMapping

from serving.catalog.schemas import ProductPublic
from serving.errors import ApiError, CommonError
from serving.pricing import engine, shipping, store
from serving.pricing.schemas import (
    AdjustmentPublic,
    CouponPublic,
    PromotionCreate,
    PromotionFields,
    PromotionPublic,
    PromotionsPage,
    PromotionUpdate,
    QuoteLinePublic,
    QuotePublic,
    QuoteRequest,
    ShippingPublic,
    SkippedPublic,
)
from serving.unit_of_work import UnitOfWork
from shoplake import outbox
from shoplake.config import Settings
from shoplake.events.pricing import PromotionCreated, PromotionDeleted, PromotionUpdated

SOURCE = "/serving/pricing"


class PricingError(StrEnum):
    PROMOTION_NOT_FOUND = "PROMOTION_NOT_FOUND"
    COUPON_CODE_TAKEN = "COUPON_CODE_TAKEN"
    PROMOTION_IN_USE = "PROMOTION_IN_USE"
    ITEMS_UNAVAILABLE = "ITEMS_UNAVAILABLE"
    DUPLICATE_ITEMS = "DUPLICATE_ITEMS"
    MIXED_CURRENCIES = "MIXED_CURRENCIES"
    COUPON_NOT_FOUND = "COUPON_NOT_FOUND"
    COUPON_INACTIVE = "COUPON_INACTIVE"
    COUPON_NOT_STARTED = "COUPON_NOT_STARTED"
    COUPON_EXPIRED = "COUPON_EXPIRED"
    COUPON_EXHAUSTED = "COUPON_EXHAUSTED"
    COUPON_ALREADY_USED = "COUPON_ALREADY_USED"
    NO_SHIPPING_RATE = "NO_SHIPPING_RATE"


# ---------------------------------------------------------------- promotions (admin)


def _promotion_public(row: RowMapping, redemptions: int = 0) -> PromotionPublic:
    return PromotionPublic.model_validate(
        {**dict(row), "id": str(row["id"]), "redemptions": redemptions}
    )


def _promotion_not_found(promotion_id: str) -> ApiError:
    return ApiError(404, PricingError.PROMOTION_NOT_FOUND, f"promotion '{promotion_id}' not found")


def _code_taken(code: str | None) -> ApiError:
    return ApiError(
        409, PricingError.COUPON_CODE_TAKEN, f"another promotion has the coupon code '{code}'"
    )


def _state(row: RowMapping) -> dict[str, Any]:
    """A promotion row as its events carry it."""
    return {
        "promotion_id": str(row["id"]),
        **{name: row[name] for name in PromotionFields.model_fields},
    }


def create_promotion(conn: Connection, body: PromotionCreate) -> PromotionPublic:
    try:
        with conn.begin_nested():
            row = store.insert_promotion(conn, **body.model_dump())
    except sa.exc.IntegrityError as exc:  # the coupon code is unique
        raise _code_taken(body.coupon_code) from exc
    outbox.record(conn, PromotionCreated.model_validate(_state(row)), SOURCE)
    return _promotion_public(row)


def get_promotion(conn: Connection, promotion_id: str) -> PromotionPublic:
    row = store.get_promotion(conn, promotion_id)
    if row is None:
        raise _promotion_not_found(promotion_id)
    counts = store.live_redemption_counts(conn, [promotion_id])
    return _promotion_public(row, counts.get(promotion_id, 0))


def list_promotions(
    conn: Connection, *, limit: int, offset: int, active: bool | None, coupon_code: str | None
) -> PromotionsPage:
    rows, total = store.list_promotions(
        conn, limit=limit, offset=offset, active=active, coupon_code=coupon_code
    )
    counts = store.live_redemption_counts(conn, [str(row["id"]) for row in rows])
    return PromotionsPage(
        items=[_promotion_public(row, counts.get(str(row["id"]), 0)) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def update_promotion(conn: Connection, promotion_id: str, body: PromotionUpdate) -> PromotionPublic:
    row = store.get_promotion(conn, promotion_id)
    if row is None:
        raise _promotion_not_found(promotion_id)
    changes = body.model_dump(exclude_unset=True)
    current = {name: row[name] for name in PromotionFields.model_fields}
    try:
        # The merged promotion must satisfy every rule a new one does.
        merged = PromotionFields.model_validate({**current, **changes})
    except ValidationError as exc:
        details = [
            {"loc": ["body", *map(str, err["loc"])], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_context=False)
        ]
        raise ApiError(
            422, CommonError.VALIDATION_FAILED, "the promotion would not be valid", details
        ) from exc
    fields = {name: getattr(merged, name) for name in changes}
    if not fields:
        return get_promotion(conn, promotion_id)
    try:
        with conn.begin_nested():
            updated = store.update_promotion(conn, promotion_id, **fields)
    except sa.exc.IntegrityError as exc:
        raise _code_taken(merged.coupon_code) from exc
    outbox.record(
        conn,
        PromotionUpdated.model_validate({**_state(updated), "changed": sorted(fields)}),
        SOURCE,
    )
    counts = store.live_redemption_counts(conn, [promotion_id])
    return _promotion_public(updated, counts.get(promotion_id, 0))


def delete_promotion(conn: Connection, promotion_id: str) -> None:
    """Delete a promotion and its open claims; one whose coupon an order used is kept (its
    history matters): deactivate it instead."""
    if store.get_promotion(conn, promotion_id) is None:
        raise _promotion_not_found(promotion_id)
    if store.consumed_redemptions(conn, promotion_id):
        raise ApiError(
            409,
            PricingError.PROMOTION_IN_USE,
            "orders used this promotion's coupon; set active=false instead of deleting it",
        )
    store.delete_promotion(conn, promotion_id)
    outbox.record(conn, PromotionDeleted(promotion_id=promotion_id), SOURCE)


# ---------------------------------------------------------------- quotes


@dataclass(frozen=True)
class Unavailable:
    sku: str
    reason: str  # unknown | draft | discontinued | mixed_currency


@dataclass(frozen=True)
class Pricing:
    """A quote of the available lines, and the lines that could not be priced."""

    quote: QuotePublic
    unavailable: list[Unavailable]
    products: dict[str, ProductPublic]


def now_utc() -> datetime:
    return datetime.now(UTC)


def _to_engine(row: Mapping[str, Any]) -> engine.Promotion:
    return engine.Promotion(
        id=str(row["id"]),
        name=row["name"],
        kind=row["kind"],
        value=int(row["value"]),
        scope=row["scope"],
        scope_values=tuple(row["scope_values"] or ()),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        currency=row["currency"],
        coupon_code=row["coupon_code"],
        stackable=bool(row["stackable"]),
        priority=int(row["priority"]),
        active=bool(row["active"]),
    )


def describe(promotion: engine.Promotion) -> str:
    """What the promotion promises, in integers: '12.50% off', '500 EUR minor units off'."""
    if promotion.kind == "percentage":
        whole, fraction = divmod(promotion.value, 100)
        what = f"{whole}.{fraction:02d}% off"
    else:
        unit = "each unit" if promotion.scope != "cart" else "the cart"
        what = f"{promotion.value} {promotion.currency} minor units off {unit}"
    where = {
        "sku": "these products",
        "category": "categories " + ", ".join(promotion.scope_values),
        "cart": "the cart",
    }[promotion.scope]
    stacking = "" if promotion.stackable else " (not combinable with other offers)"
    return f"{what} on {where}{stacking}"


def _scope_keys(products: Sequence[ProductPublic]) -> list[str]:
    """SKUs and every category path prefix of the lines: what a promotion's scope may name."""
    keys: set[str] = set()
    for product in products:
        keys.add(product.sku)
        for depth in range(1, len(product.category_path) + 1):
            keys.add("/".join(product.category_path[:depth]))
    return sorted(keys)


def price_items(
    conn: Connection,
    client: redis.Redis,
    settings: Settings,
    items: Sequence[tuple[str, int]],
    coupon_code: str | None,
    *,
    now: datetime | None = None,
) -> Pricing:
    """Price (sku, quantity) pairs with live catalog prices; lines that cannot be sold now are
    left out of the quote and listed as unavailable, so a cart can show them."""
    return _price(store.SqlCheckoutPricing(conn, client, settings), items, coupon_code, now)


def _price(
    source: store.CheckoutPricing,
    items: Sequence[tuple[str, int]],
    coupon_code: str | None,
    now: datetime | None,
) -> Pricing:
    now = now or now_utc()
    code = engine.normalize_code(coupon_code) if coupon_code else None
    products = source.products([sku for sku, _ in items])
    unavailable: list[Unavailable] = []
    sellable: list[tuple[ProductPublic, int]] = []
    for sku, quantity in items:
        product = products.get(sku)
        if product is None:
            unavailable.append(Unavailable(sku, "unknown"))
        elif product.status != "active":
            unavailable.append(Unavailable(sku, product.status))
        else:
            sellable.append((product, quantity))
    # One currency per quote: that of the first sellable line (the catalog sells in one today).
    currency = sellable[0][0].currency if sellable else "EUR"
    for product, _ in [s for s in sellable if s[0].currency != currency]:
        unavailable.append(Unavailable(product.sku, "mixed_currency"))
    sellable = [s for s in sellable if s[0].currency == currency]

    rows = source.promotions_for_quote(
        scope_keys=_scope_keys([product for product, _ in sellable]),
        coupon_code=code,
        now=now,
    )
    promotions = [_to_engine(row) for row in rows]
    lines = [
        engine.Line(p.sku, quantity, p.price_cents, tuple(p.category_path))
        for p, quantity in sellable
    ]
    result = engine.price(lines, promotions, currency=currency, now=now, coupon_code=code)
    return Pricing(
        quote=_quote_public(result, promotions, products, now),
        unavailable=unavailable,
        products=products,
    )


# ---------------------------------------------------------------- checkout's calls

CHECKOUT_PRICING = "pricing"


def _checkout_pricing(uow: UnitOfWork) -> store.CheckoutPricing:
    return uow.store(CHECKOUT_PRICING, store.SqlCheckoutPricing.on)


def price_for_checkout(
    uow: UnitOfWork,
    items: Sequence[tuple[str, int]],
    coupon_code: str | None,
    *,
    now: datetime | None = None,
) -> Pricing:
    """`price_items` inside checkout's unit of work: the price the order is placed at."""
    return _price(_checkout_pricing(uow), items, coupon_code, now)


def shipping_for(settings: Settings, priced: Pricing, country: str) -> ShippingPublic:
    """What shipping the priced lines to `country` costs, from the rate table of the settings
    (a product's `attributes.weight_g`, else the default weight per unit)."""
    quote = priced.quote
    weight = shipping.parcel_weight_g(
        ((priced.products[line.sku].attributes, line.quantity) for line in quote.lines),
        settings.shipping_default_weight_g,
    )
    try:
        found = shipping.quote_shipping(
            settings.shipping_rates,
            country=country,
            weight_g=weight,
            goods_cents=quote.total_cents,
            currency=quote.currency,
        )
    except shipping.NoShippingRate as exc:
        raise ApiError(
            422,
            PricingError.NO_SHIPPING_RATE,
            f"there is no shipping rate to {country}",
            details={"country": country},
        ) from exc
    return ShippingPublic(
        country=found.country,
        zone=found.zone,
        weight_g=found.weight_g,
        amount_cents=found.amount_cents,
        rule=found.rule,
        description=found.description,
    )


def applied_coupon(quote: QuotePublic) -> str | None:
    """The coupon code the quote applied, if any (a rejected coupon is not the order's)."""
    if quote.coupon is not None and quote.coupon.status == engine.CouponStatus.APPLIED:
        return quote.coupon.code
    return None


def hold_coupon(uow: UnitOfWork, code: str, holder: str, order_id: str) -> None:
    """The order being placed takes one use of its coupon (a usage limit counts orders, not
    carts); 409 when none is left or the holder used theirs on another order."""
    code = engine.normalize_code(code)
    outcome = _checkout_pricing(uow).hold_coupon(code, holder, order_id)
    if outcome == "exhausted":
        raise ApiError(409, PricingError.COUPON_EXHAUSTED, f"coupon '{code}' has no uses left")
    if outcome == "already_used":
        raise ApiError(
            409, PricingError.COUPON_ALREADY_USED, f"coupon '{code}' was already used by you"
        )


def release_coupon_hold(uow: UnitOfWork, order_id: str) -> None:
    """The order's payment failed or it was cancelled unpaid: its coupon use goes back."""
    _checkout_pricing(uow).release_coupon_hold(order_id)


def _quote_public(
    result: engine.Quote,
    promotions: Sequence[engine.Promotion],
    products: dict[str, ProductPublic],
    now: datetime,
) -> QuotePublic:
    by_id = {p.id: p for p in promotions}

    def adjustment(a: engine.Adjustment) -> AdjustmentPublic:
        return AdjustmentPublic(
            promotion_id=a.promotion_id,
            name=a.name,
            amount_cents=a.amount_cents,
            description=describe(by_id[a.promotion_id]),
        )

    coupon: CouponPublic | None = None
    if result.coupon_code is not None and result.coupon_status is not None:
        promotion = next((p for p in promotions if p.coupon_code == result.coupon_code), None)
        coupon = CouponPublic(
            code=result.coupon_code,
            status=result.coupon_status,
            promotion_id=promotion.id if promotion else None,
        )
    return QuotePublic(
        currency=result.currency,
        lines=[
            QuoteLinePublic(
                sku=line.sku,
                name=products[line.sku].name,
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
                subtotal_cents=line.subtotal_cents,
                discount_cents=line.discount_cents,
                total_cents=line.total_cents,
                adjustments=[adjustment(a) for a in line.adjustments],
            )
            for line in result.lines
        ],
        cart_adjustments=[adjustment(a) for a in result.cart_adjustments],
        subtotal_cents=result.subtotal_cents,
        discount_cents=result.discount_cents,
        total_cents=result.total_cents,
        coupon=coupon,
        not_applied=[
            SkippedPublic(promotion_id=s.promotion_id, name=s.name, reason=s.reason)
            for s in result.skipped
        ],
        priced_at=now,
    )


def quote(
    conn: Connection, client: redis.Redis, settings: Settings, body: QuoteRequest
) -> QuotePublic:
    """A quote of every requested line, or 422 naming each line that cannot be sold."""
    seen: dict[str, int] = {}
    duplicates = []
    for index, item in enumerate(body.items):
        if item.sku in seen:
            duplicates.append({"index": index, "sku": item.sku, "first_index": seen[item.sku]})
        seen.setdefault(item.sku, index)
    if duplicates:
        raise ApiError(
            422, PricingError.DUPLICATE_ITEMS, "each SKU may appear once", details=duplicates
        )
    pricing = price_items(
        conn, client, settings, [(i.sku, i.quantity) for i in body.items], body.coupon_code
    )
    if pricing.unavailable:
        raise ApiError(
            422,
            PricingError.ITEMS_UNAVAILABLE,
            "some items cannot be sold",
            details=[
                {"index": seen[u.sku], "sku": u.sku, "reason": u.reason}
                for u in pricing.unavailable
            ],
        )
    if body.ship_to_country is None:
        return pricing.quote
    cost = shipping_for(settings, pricing, body.ship_to_country)
    return pricing.quote.model_copy(
        update={
            "shipping": cost,
            "total_with_shipping_cents": pricing.quote.total_cents + cost.amount_cents,
        }
    )


# ---------------------------------------------------------------- coupon claims


def claim_coupon(conn: Connection, code: str, holder: str, ttl_s: int) -> str:
    """Claim one use of the coupon for `holder` until `ttl_s` from now; the promotion id.

    Re-claiming by the same holder refreshes the claim without spending another use. Runs in
    the caller's transaction: the claim exists if and only if that transaction commits.
    """
    code = engine.normalize_code(code)
    row = store.lock_coupon(conn, code)
    if row is None:
        raise ApiError(404, PricingError.COUPON_NOT_FOUND, f"no coupon '{code}'")
    _check_coupon_window(row, now_utc())
    promotion_id = str(row["id"])
    claim = store.get_claim(conn, promotion_id, holder)
    if claim is not None and claim["order_id"] is not None:
        raise ApiError(
            409, PricingError.COUPON_ALREADY_USED, f"coupon '{code}' was already used by you"
        )
    holds_live_claim = claim is not None and bool(claim["alive"])
    limit = row["usage_limit"]
    if not holds_live_claim and limit is not None:
        used = store.count_live_claims(conn, promotion_id)
        if used >= limit:
            raise ApiError(
                409,
                PricingError.COUPON_EXHAUSTED,
                f"coupon '{code}' has no uses left",
                details={"usage_limit": limit},
            )
    store.upsert_claim(conn, promotion_id, holder, ttl_s)
    return promotion_id


def _check_coupon_window(row: RowMapping, now: datetime) -> None:
    code = row["coupon_code"]
    if not row["active"]:
        raise ApiError(409, PricingError.COUPON_INACTIVE, f"coupon '{code}' is not active")
    if now < row["starts_at"]:
        raise ApiError(
            409,
            PricingError.COUPON_NOT_STARTED,
            f"coupon '{code}' is valid from {row['starts_at'].isoformat()}",
            details={"starts_at": row["starts_at"]},
        )
    if row["ends_at"] is not None and now >= row["ends_at"]:
        raise ApiError(
            409,
            PricingError.COUPON_EXPIRED,
            f"coupon '{code}' expired at {row['ends_at'].isoformat()}",
            details={"ends_at": row["ends_at"]},
        )


def release_coupon(conn: Connection, code: str, holder: str) -> bool:
    """Give back the holder's unused claim; True when one was released."""
    row = store.promotion_by_code(conn, engine.normalize_code(code))
    if row is None:
        return False
    return store.delete_unused_claim(conn, str(row["id"]), holder)


def extend_coupon_claim(conn: Connection, code: str, holder: str, ttl_s: int) -> bool:
    """Keep a live claim alive as long as its cart; False when it lapsed or is gone."""
    row = store.promotion_by_code(conn, engine.normalize_code(code))
    if row is None:
        return False
    return store.extend_live_claim(conn, str(row["id"]), holder, ttl_s)
