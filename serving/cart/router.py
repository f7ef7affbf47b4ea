"""HTTP routes of the cart: /v1/cart*.

The caller's cart is the signed-in user's, or the anonymous one named by `X-Cart-Token`; the first
anonymous write without a token creates a cart and returns its token in the `X-Cart-Token`
response header and in the body. Responses carry `ETag: "<version>"`; a write with
`If-Match: "<version>"` fails with 412 when the cart has changed since that version.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from serving.access import Public
from serving.cart import service
from serving.cart.schemas import (
    CART_TOKEN_PATTERN,
    CartItemAdd,
    CartItemUpdate,
    CartPublic,
    CouponApply,
)
from serving.catalog.schemas import SKU_PATTERN
from serving.deps import CartRateLimit, ConnDep, OptionalUser, RedisDep, SettingsDep
from serving.errors import ApiError, CommonError

# Anonymous shoppers have carts too (by cart token); a token makes it the user's cart.
router = APIRouter(prefix="/v1", tags=["cart"], dependencies=[Public])

CartToken = Annotated[
    str | None,
    Header(
        alias="X-Cart-Token",
        pattern=CART_TOKEN_PATTERN,
        description="an anonymous cart's token (ignored when signed in)",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=64,
        description='the cart version this change is based on, e.g. "3"; 412 if stale',
    ),
]
SkuPath = Annotated[str, Path(pattern=SKU_PATTERN)]


def _version(if_match: str | None) -> int | None:
    """The version an If-Match header names ('"3"', 'W/"3"' or '3'); None for none or '*'."""
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 18:
        raise ApiError(
            422,
            CommonError.VALIDATION_FAILED,
            'If-Match must name one cart version, like "3"',
            details={"if_match": if_match},
        )
    return int(text)


def _respond(response: Response, cart: CartPublic) -> CartPublic:
    response.headers["ETag"] = service.etag(cart.version)
    if cart.cart_token is not None:
        response.headers["X-Cart-Token"] = cart.cart_token
    response.headers["Cache-Control"] = "no-store"
    return cart


def _writer(user: OptionalUser, token: str | None) -> service.CartRef:
    ref = service.resolve(user, token, create=True)
    assert ref is not None  # create=True always names a cart
    return ref


@router.get("/cart")
def get_cart(
    response: Response,
    user: OptionalUser,
    conn: ConnDep,
    redis: RedisDep,
    settings: SettingsDep,
    x_cart_token: CartToken = None,
) -> CartPublic:
    """The cart with live prices and promotions; unavailable lines are marked and not totalled."""
    ref = service.resolve(user, x_cart_token, create=False)
    return _respond(response, service.get_cart(conn, redis, settings, ref))


@router.post("/cart/items", dependencies=[CartRateLimit])
def add_item(
    body: CartItemAdd,
    response: Response,
    user: OptionalUser,
    conn: ConnDep,
    redis: RedisDep,
    settings: SettingsDep,
    x_cart_token: CartToken = None,
    if_match: IfMatch = None,
) -> CartPublic:
    """Add units of a product (a new line, or more of an existing one)."""
    ref = _writer(user, x_cart_token)
    cart = service.add_item(conn, redis, settings, ref, body, _version(if_match))
    return _respond(response, cart)


@router.patch("/cart/items/{sku}", dependencies=[CartRateLimit])
def update_item(
    sku: SkuPath,
    body: CartItemUpdate,
    response: Response,
    user: OptionalUser,
    conn: ConnDep,
    redis: RedisDep,
    settings: SettingsDep,
    x_cart_token: CartToken = None,
    if_match: IfMatch = None,
) -> CartPublic:
    ref = _writer(user, x_cart_token)
    cart = service.update_item(conn, redis, settings, ref, sku, body, _version(if_match))
    return _respond(response, cart)


@router.delete("/cart/items/{sku}", dependencies=[CartRateLimit])
def remove_item(
    sku: SkuPath,
    response: Response,
    user: OptionalUser,
    conn: ConnDep,
    redis: RedisDep,
    settings: SettingsDep,
    x_cart_token: CartToken = None,
    if_match: IfMatch = None,
) -> CartPublic:
    ref = _writer(user, x_cart_token)
    cart = service.remove_item(conn, redis, settings, ref, sku, _version(if_match))
    return _respond(response, cart)


@router.post("/cart/coupon", dependencies=[CartRateLimit])
def apply_coupon(
    body: CouponApply,
    response: Response,
    user: OptionalUser,
    conn: ConnDep,
    redis: RedisDep,
    settings: SettingsDep,
    x_cart_token: CartToken = None,
    if_match: IfMatch = None,
) -> CartPublic:
    """Put a coupon on the cart, claiming one of its uses (404 unknown, 409 inactive, not
    started, expired, exhausted or already used). Re-applying the same coupon spends nothing."""
    ref = _writer(user, x_cart_token)
    cart = service.apply_coupon(conn, redis, settings, ref, body.code, _version(if_match))
    return _respond(response, cart)


@router.delete("/cart/coupon", dependencies=[CartRateLimit])
def remove_coupon(
    response: Response,
    user: OptionalUser,
    conn: ConnDep,
    redis: RedisDep,
    settings: SettingsDep,
    x_cart_token: CartToken = None,
    if_match: IfMatch = None,
) -> CartPublic:
    """Take the coupon off the cart and give its use back (idempotent)."""
    ref = _writer(user, x_cart_token)
    cart = service.remove_coupon(conn, redis, settings, ref, _version(if_match))
    return _respond(response, cart)
