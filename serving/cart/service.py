"""Rules of carts: who owns which cart, line changes with versions, coupons, merge on login.

A cart lives in Redis (`store.py`) and expires `cart_ttl_s` after its last change. A signed-in
shopper's cart is `u:<user id>`; an anonymous one is `a:<hash of its token>`, so the token, a
bearer secret, never reaches the database or the events. Every change bumps the cart's version;
a write that names the version it saw (If-Match) fails with 412 when another device changed the
cart since, and a write without one applies to its line alone, atomically, never touching others.

The cart has no Postgres state, but its events do: each change records CartItemAdded or
CartItemRemoved in the request's outbox transaction, written right after the Redis script
succeeds. A change the script refuses raises before any event is written, and the transaction
rolls back, coupon claim included.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import redis
from sqlalchemy import Connection

from serving.cart import store
from serving.cart.schemas import (
    CART_TOKEN_PATTERN,
    CartItemAdd,
    CartItemUpdate,
    CartLinePublic,
    CartPublic,
)
from serving.catalog import service as catalog
from serving.catalog.schemas import ProductPublic
from serving.errors import ApiError
from serving.inventory import service as inventory
from serving.pricing import service as pricing
from serving.pricing.schemas import MAX_LINES, MAX_QUANTITY
from serving.security import TokenClaims
from serving.unit_of_work import UnitOfWork
from shoplake import outbox
from shoplake.config import Settings
from shoplake.events.cart import CartItemAdded, CartItemRemoved

SOURCE = "/serving/cart"
_TOKEN_RE = re.compile(CART_TOKEN_PATTERN)


class CartError(StrEnum):
    CART_VERSION_MISMATCH = "CART_VERSION_MISMATCH"
    LINE_NOT_FOUND = "LINE_NOT_FOUND"
    CART_FULL = "CART_FULL"
    LINE_QUANTITY_EXCEEDED = "LINE_QUANTITY_EXCEEDED"
    PRODUCT_UNAVAILABLE = "PRODUCT_UNAVAILABLE"


@dataclass(frozen=True)
class CartRef:
    """Whose cart a request is about."""

    cart_id: str
    user_id: str | None
    token: str | None  # an anonymous cart's token
    token_created: bool = False

    @property
    def holder(self) -> str:
        """Who holds a coupon claim: the user, or the anonymous cart."""
        return self.user_id or self.cart_id


def user_cart_id(user_id: str) -> str:
    return f"u:{user_id}"


def anonymous_cart_id(token: str) -> str:
    return "a:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def resolve(user: TokenClaims | None, token: str | None, *, create: bool) -> CartRef | None:
    """The caller's cart: the user's when signed in, else the token's; a write without either
    gets a new token (returned to the client), a read gets None (an empty cart)."""
    if user is not None:
        return CartRef(user_cart_id(user.user_id), user.user_id, None)
    if token is not None:
        return CartRef(anonymous_cart_id(token), None, token)
    if not create:
        return None
    token = secrets.token_urlsafe(24)
    return CartRef(anonymous_cart_id(token), None, token, token_created=True)


# ---------------------------------------------------------------- checkout's calls

CHECKOUT_CARTS = "cart"


def _checkout_carts(uow: UnitOfWork) -> store.CheckoutCarts:
    return uow.store(CHECKOUT_CARTS, store.RedisCheckoutCarts.on)


def cart_to_check_out(uow: UnitOfWork, user_id: str) -> tuple[str, store.CartState]:
    """The signed-in user's cart id and what it holds now."""
    cart_id = user_cart_id(user_id)
    return cart_id, _checkout_carts(uow).read(cart_id)


def take_after_commit(uow: UnitOfWork, user_id: str) -> None:
    """Once the order's transaction commits, the user's cart goes (Redis is not in the
    transaction). The cart may have changed since it was priced (another device): what was
    bought was priced from it, so all of it goes."""
    carts = _checkout_carts(uow)
    cart_id = user_cart_id(user_id)

    def take() -> None:
        carts.take(cart_id)

    uow.after_commit(take)


def availability(conn: Connection, skus: Sequence[str]) -> dict[str, bool]:
    """Whether each SKU can be bought now, stock-wise, from the inventory ledger: a SKU with
    no stock level anywhere is not stock-managed and counts as available; a tracked SKU needs
    available units. Catalog status is checked separately.
    """
    return inventory.sku_availability(conn, skus)


# ---------------------------------------------------------------- reading


def get_cart(
    conn: Connection, client: redis.Redis, settings: Settings, ref: CartRef | None
) -> CartPublic:
    state = store.read(client, ref.cart_id) if ref is not None else store.CartState()
    return _view(conn, client, settings, ref, state)


def _view(
    conn: Connection,
    client: redis.Redis,
    settings: Settings,
    ref: CartRef | None,
    state: store.CartState,
) -> CartPublic:
    """The cart with live prices and promotions; lines that cannot be bought are marked and
    left out of the totals."""
    in_stock = availability(conn, [line.sku for line in state.lines])
    stocked = [line for line in state.lines if in_stock.get(line.sku, False)]
    priced = pricing.price_items(
        conn, client, settings, [(line.sku, line.quantity) for line in stocked], state.coupon
    )
    reasons = {u.sku: u.reason for u in priced.unavailable}
    reasons.update((line.sku, "out_of_stock") for line in state.lines if not in_stock[line.sku])
    quoted = {line.sku: line for line in priced.quote.lines}
    lines = []
    for line in state.lines:
        product = priced.products.get(line.sku)
        q = quoted.get(line.sku)
        if q is not None:
            lines.append(
                CartLinePublic(
                    sku=line.sku,
                    quantity=line.quantity,
                    available=True,
                    name=q.name,
                    unit_price_cents=q.unit_price_cents,
                    subtotal_cents=q.subtotal_cents,
                    discount_cents=q.discount_cents,
                    total_cents=q.total_cents,
                    adjustments=q.adjustments,
                )
            )
        else:
            lines.append(
                CartLinePublic(
                    sku=line.sku,
                    quantity=line.quantity,
                    available=False,
                    unavailable_reason=reasons.get(line.sku, "unknown"),
                    name=product.name if product else None,
                    unit_price_cents=product.price_cents if product else None,
                )
            )
    quote = priced.quote
    return CartPublic(
        version=state.version,
        cart_token=ref.token if ref is not None else None,
        currency=quote.currency,
        lines=lines,
        item_count=sum(line.quantity for line in lines if line.available),
        cart_adjustments=quote.cart_adjustments,
        subtotal_cents=quote.subtotal_cents,
        discount_cents=quote.discount_cents,
        total_cents=quote.total_cents,
        coupon=quote.coupon,
        not_applied=quote.not_applied,
        expires_in_s=state.ttl_s,
    )


# ---------------------------------------------------------------- line changes


def _sellable(conn: Connection, client: redis.Redis, settings: Settings, sku: str) -> ProductPublic:
    product = catalog.get_products(conn, client, settings, [sku]).get(sku)
    reason = None
    if product is None:
        reason = "unknown"
    elif product.status != "active":
        reason = product.status
    elif not availability(conn, [sku])[sku]:
        reason = "out_of_stock"
    if reason is not None or product is None:
        raise ApiError(
            422,
            CartError.PRODUCT_UNAVAILABLE,
            f"product '{sku}' cannot be added to a cart",
            details={"sku": sku, "reason": reason},
        )
    return product


def _mutate(
    client: redis.Redis,
    settings: Settings,
    ref: CartRef,
    *,
    op: str,
    target: str,
    quantity: int = 0,
    expected_version: int | None,
) -> store.Mutation:
    result = store.mutate(
        client,
        ref.cart_id,
        op=op,
        target=target,
        quantity=quantity,
        expected_version=expected_version,
        ttl_s=settings.cart_ttl_s,
        max_lines=MAX_LINES,
        max_quantity=MAX_QUANTITY,
    )
    if result.status == "version_mismatch":
        raise ApiError(
            412,
            CartError.CART_VERSION_MISMATCH,
            f"the cart changed: it is at version {result.version}, not {expected_version}; "
            "read it again and retry",
            details={"current_version": result.version, "expected_version": expected_version},
            headers={"ETag": etag(result.version)},
        )
    if result.status == "missing":
        raise ApiError(404, CartError.LINE_NOT_FOUND, f"the cart has no line '{target}'")
    if result.status == "too_many_lines":
        raise ApiError(
            422,
            CartError.CART_FULL,
            f"a cart holds at most {MAX_LINES} lines",
            details={"max_lines": MAX_LINES},
        )
    if result.status == "quantity_exceeded":
        raise ApiError(
            422,
            CartError.LINE_QUANTITY_EXCEEDED,
            f"a line holds at most {MAX_QUANTITY} units",
            details={
                "sku": target,
                "quantity": result.old_quantity,
                "max_quantity": MAX_QUANTITY,
            },
        )
    return result


def _after_write(
    conn: Connection, client: redis.Redis, settings: Settings, ref: CartRef, coupon: str | None
) -> CartPublic:
    if coupon:
        # The claim lives as long as the cart: both are pushed out by every change.
        pricing.extend_coupon_claim(conn, coupon, ref.holder, settings.cart_ttl_s)
    return get_cart(conn, client, settings, ref)


def add_item(
    conn: Connection,
    client: redis.Redis,
    settings: Settings,
    ref: CartRef,
    body: CartItemAdd,
    expected_version: int | None,
) -> CartPublic:
    product = _sellable(conn, client, settings, body.sku)
    result = _mutate(
        client,
        settings,
        ref,
        op="add",
        target=body.sku,
        quantity=body.quantity,
        expected_version=expected_version,
    )
    _record_added(conn, ref, product, body.quantity)
    return _after_write(conn, client, settings, ref, result.coupon_before)


def update_item(
    conn: Connection,
    client: redis.Redis,
    settings: Settings,
    ref: CartRef,
    sku: str,
    body: CartItemUpdate,
    expected_version: int | None,
) -> CartPublic:
    """Set the line's quantity. Raising it needs a sellable product; lowering it never does."""
    lines = store.read(client, ref.cart_id).lines
    current = next((line for line in lines if line.sku == sku), None)
    product = None
    if current is not None and body.quantity > current.quantity:
        product = _sellable(conn, client, settings, sku)
    result = _mutate(
        client,
        settings,
        ref,
        op="set",
        target=sku,
        quantity=body.quantity,
        expected_version=expected_version,
    )
    delta = result.new_quantity - result.old_quantity
    if delta > 0:
        # A concurrent change may have lowered the line since it was read: price the rise now.
        product = product or _sellable(conn, client, settings, sku)
        _record_added(conn, ref, product, delta)
    elif delta < 0:
        _record_removed(conn, ref, ref.cart_id, sku, -delta)
    return _after_write(conn, client, settings, ref, result.coupon_before)


def remove_item(
    conn: Connection,
    client: redis.Redis,
    settings: Settings,
    ref: CartRef,
    sku: str,
    expected_version: int | None,
) -> CartPublic:
    result = _mutate(
        client, settings, ref, op="remove", target=sku, expected_version=expected_version
    )
    _record_removed(conn, ref, ref.cart_id, sku, result.old_quantity)
    return _after_write(conn, client, settings, ref, result.coupon_before)


def _record_added(conn: Connection, ref: CartRef, product: ProductPublic, units: int) -> None:
    outbox.record(
        conn,
        CartItemAdded(
            cart_id=ref.cart_id,
            user_id=ref.user_id,
            sku=product.sku,
            quantity=units,
            unit_price_cents=product.price_cents,
            currency=product.currency,
        ),
        SOURCE,
    )


def _record_removed(conn: Connection, ref: CartRef, cart_id: str, sku: str, units: int) -> None:
    outbox.record(
        conn,
        CartItemRemoved(cart_id=cart_id, user_id=ref.user_id, sku=sku, quantity=units),
        SOURCE,
    )


# ---------------------------------------------------------------- coupons


def apply_coupon(
    conn: Connection,
    client: redis.Redis,
    settings: Settings,
    ref: CartRef,
    code: str,
    expected_version: int | None,
) -> CartPublic:
    """Claim a use of the coupon for this cart's holder and put it on the cart (one per cart).

    The claim is written in the request's transaction; if the cart write then fails (412), the
    transaction rolls back and the use is not spent.
    """
    if expected_version is not None:
        current = store.read(client, ref.cart_id).version
        if current != expected_version:
            # Fail before queueing on the promotion's lock; the script checks again below.
            raise ApiError(
                412,
                CartError.CART_VERSION_MISMATCH,
                f"the cart changed: it is at version {current}, not {expected_version}",
                details={"current_version": current, "expected_version": expected_version},
                headers={"ETag": etag(current)},
            )
    pricing.claim_coupon(conn, code, ref.holder, settings.cart_ttl_s)
    result = _mutate(
        client, settings, ref, op="coupon", target=code, expected_version=expected_version
    )
    if result.coupon_before and result.coupon_before != code:
        pricing.release_coupon(conn, result.coupon_before, ref.holder)
    return get_cart(conn, client, settings, ref)


def remove_coupon(
    conn: Connection,
    client: redis.Redis,
    settings: Settings,
    ref: CartRef,
    expected_version: int | None,
) -> CartPublic:
    """Take the coupon off and give its use back. Idempotent: no coupon, no change."""
    result = _mutate(
        client, settings, ref, op="uncoupon", target="", expected_version=expected_version
    )
    if result.coupon_before:
        pricing.release_coupon(conn, result.coupon_before, ref.holder)
    return get_cart(conn, client, settings, ref)


# ---------------------------------------------------------------- merge on login


def merge_anonymous(
    conn: Connection, client: redis.Redis, settings: Settings, cart_token: str, user_id: str
) -> None:
    """Merge the anonymous cart named by cart_token into the user's cart.

    Quantities add, capped at the per-line maximum; lines beyond the cart's capacity and lines
    of unknown products are dropped. The anonymous cart is deleted. Its coupon moves to the
    user's cart when that has none (the claim moves with it, if the user may still use it);
    otherwise its claim is released. Never fails the login: a bad token merges nothing.
    """
    if not _TOKEN_RE.fullmatch(cart_token):
        return
    anonymous = CartRef(anonymous_cart_id(cart_token), None, cart_token)
    user = CartRef(user_cart_id(user_id), user_id, None)
    taken = store.take(client, anonymous.cart_id)
    if not taken.lines and taken.coupon is None:
        return
    products = catalog.get_products(conn, client, settings, [line.sku for line in taken.lines])
    known = [line for line in taken.lines if line.sku in products]
    merged = store.merge(
        client,
        user.cart_id,
        known,
        taken.coupon,
        ttl_s=settings.cart_ttl_s,
        max_lines=MAX_LINES,
        max_quantity=MAX_QUANTITY,
    )
    for line in taken.lines:
        _record_removed(conn, anonymous, anonymous.cart_id, line.sku, line.quantity)
    for line in known:
        if merged.added[line.sku] > 0:
            _record_added(conn, user, products[line.sku], merged.added[line.sku])
    if taken.coupon is None:
        return
    pricing.release_coupon(conn, taken.coupon, anonymous.holder)
    if not merged.coupon_taken:
        return
    try:
        with conn.begin_nested():
            pricing.claim_coupon(conn, taken.coupon, user.holder, settings.cart_ttl_s)
    except ApiError:
        # The user may not hold it (used before, exhausted meanwhile): the cart drops it.
        with contextlib.suppress(ApiError):
            _mutate(client, settings, user, op="uncoupon", target="", expected_version=None)


def etag(version: int) -> str:
    return f'"{version}"'
