"""Checkout: a saga of three steps, each stored in `checkout_requests.state`, each step's
transaction a `with uow:` of the request's unit of work (`serving/unit_of_work.py`).

1. One transaction: claim the Idempotency-Key (a concurrent duplicate waits on the key's unique
   index until this commits, then sees the row), price the cart server-side (and its shipping
   to the address, `pricing.shipping_for`: the total charged includes it), place the order
   PENDING_PAYMENT with OrderPlaced and CartCheckedOut, reserve the stock last (its row lock is
   held until the commit; OutOfStock → 409 and the whole transaction rolls back: nothing
   reserved, no order, key not kept); state `authorizing`. Before any of it, outside the
   transaction, a SKU the stock gate says is gone answers 409 from Redis and one read of the
   key (`uow.reading()`: no BEGIN, no ROLLBACK), writing nothing.
2. No transaction: authorize with the gateway under the same key (a retry never charges twice).
3. One transaction, on the locked order: approved → sale, payment row, CONFIRMED
   (`confirmed`), and once that commits the cart is taken; declined → stock released, the
   coupon's use given back, PAYMENT_FAILED (`payment_failed`, 402). (The coupon's use is
   taken in step 1, by the order: a usage limit counts orders, not carts.) GatewayUnavailable
   means the gateway never took the request, so step 3 compensates at once (release,
   PAYMENT_FAILED, 503); a refusal by the gateway (a 4xx: nothing was charged) the same way,
   with 402 PAYMENT_REFUSED — never reported as a timeout. Any other gateway error is
   ambiguous (the charge may exist): the order stays PENDING_PAYMENT and `settle_pending`
   settles it after `orders_pending_grace_s` by asking the gateway `get(key)`. A zero total
   never reaches the gateway: payments settles it as a payment of method "none".

The same key always answers with the same order: 200 once confirmed, 202 while step 2 runs, 402
after a declined or refused payment, 409 after a payment the gateway's outage failed or a
cancel (a replay is final, never a 503). A key reused with another body is a 422.
Checkout talks to cart, pricing, inventory, orders and payments through their services only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import redis
from sqlalchemy import Engine

from serving.cart import service as cart
from serving.checkout.schemas import CheckoutPublic, CheckoutRequest
from serving.checkout.store import (
    CheckoutStore,
    PlacingMarks,
    RedisPlacingMarks,
    SqlCheckoutStore,
)
from serving.errors import ApiError, not_found
from serving.inventory import service as inventory
from serving.inventory.domain import OutOfStock
from serving.orders import service as orders
from serving.orders.domain import OrderStatus
from serving.payments import service as payments
from serving.payments.gateway import (
    GatewayError,
    GatewayUnavailable,
    PaymentGateway,
    PaymentResult,
)
from serving.pricing import service as pricing
from serving.security import TokenClaims
from serving.unit_of_work import SqlUnitOfWork, UnitOfWork
from shoplake.config import Settings
from shoplake.events.cart import CartCheckedOut

SOURCE = "/serving/checkout"
STORE = "checkout"
PLACING = "checkout.placing"
log = logging.getLogger(__name__)


class CheckoutError(StrEnum):
    CART_EMPTY = "CART_EMPTY"
    ITEMS_UNAVAILABLE = "ITEMS_UNAVAILABLE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_REFUSED = "PAYMENT_REFUSED"
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    CHECKOUT_FAILED = "CHECKOUT_FAILED"
    PAYMENT_PENDING = "PAYMENT_PENDING"
    ORDER_CANCELLED = "ORDER_CANCELLED"


class State(StrEnum):
    CLAIMED = "claimed"  # only ever seen inside step 1's transaction
    AUTHORIZING = "authorizing"  # step 1 committed: order placed, stock held
    CONFIRMED = "confirmed"
    PAYMENT_FAILED = "payment_failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Outcome:
    """What the router answers: the checkout, and 201 (new), 200 (replayed) or 202 (pending)."""

    body: CheckoutPublic
    status_code: int


def request_hash(user_id: str, body: CheckoutRequest) -> str:
    """Fingerprint of the request; the token is hashed along, never stored as is."""
    raw = json.dumps({"user": user_id, **body.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def _store(uow: UnitOfWork) -> CheckoutStore:
    return uow.store(STORE, SqlCheckoutStore.on)


def _placing(uow: UnitOfWork) -> PlacingMarks:
    return uow.store(PLACING, RedisPlacingMarks.on)


def _sold_out_early(uow: UnitOfWork, key: str, items: list[tuple[str, int]]) -> list[str]:
    """The SKUs the stock gate says are gone, when that is the answer for this key: in a sale
    most attempts end here, before any transaction, on Redis and one read by primary key with
    no BEGIN, no write, no row lock and no pricing. A key that was placed before (committed)
    or is being placed (marked) is answered as it always is, by the full path: the same key,
    the same order."""
    sold_out = inventory.sold_out_at_gate(uow, items)
    if not sold_out or _placing(uow).marked(key):
        return []
    with uow.reading():
        if _store(uow).get(key) is not None:
            return []
    return sold_out


def checkout(uow: UnitOfWork, user: TokenClaims, key: str, body: CheckoutRequest) -> Outcome:
    placed = _place(uow, user, key, body)
    if isinstance(placed, Outcome):  # the key was known: the same order, nothing charged
        return placed
    order_id, amount, currency = placed
    try:
        # A zero total is authorized without the gateway (payments' "none" method).
        result = payments.authorize(
            uow,
            idempotency_key=key,
            token=body.payment_token,
            amount_cents=amount,
            currency=currency,
        )
    except GatewayUnavailable as exc:
        settle_payment(uow, order_id, None, reason="gateway_unavailable")
        raise ApiError(
            503,
            CheckoutError.PAYMENT_UNAVAILABLE,
            "the payment gateway is unavailable; nothing was charged and the stock was released",
            details={"order_id": order_id},
        ) from exc
    except GatewayError as exc:
        if not exc.transient:  # the gateway answered and refused: nothing was charged
            settle_payment(uow, order_id, None, reason="gateway_refused")
            raise ApiError(
                402,
                CheckoutError.PAYMENT_REFUSED,
                "the payment gateway refused this payment; nothing was charged and the stock "
                "was released",
                details={"order_id": order_id},
            ) from exc
        log.warning("authorization of order %s is in doubt: %s", order_id, exc)
        raise ApiError(
            503,
            CheckoutError.PAYMENT_PENDING,
            "the payment gateway did not answer in time; the order will be settled shortly",
            details={"order_id": order_id},
        ) from exc
    settle_payment(uow, order_id, result, reason=None)
    return _replay(uow, key, user.user_id, fresh=True)


# ---------------------------------------------------------------- step 1


def _place(
    uow: UnitOfWork, user: TokenClaims, key: str, body: CheckoutRequest
) -> Outcome | tuple[str, int, str]:
    fingerprint = request_hash(user.user_id, body)
    # The cart and the gate are Redis, never part of the transaction: read before it.
    cart_id, state = cart.cart_to_check_out(uow, user.user_id)
    items = [(line.sku, line.quantity) for line in state.lines]
    sold_out = _sold_out_early(uow, key, items)
    if sold_out:
        raise inventory.as_api_error(OutOfStock(sold_out))
    with uow:
        requests = _store(uow)
        _placing(uow).mark(key)  # before the claim: a duplicate from now on waits for its row
        if not requests.claim(key, user.user_id, fingerprint):
            existing = requests.get(key)
            if existing is not None:
                if existing.user_id != user.user_id or existing.request_hash != fingerprint:
                    raise ApiError(
                        422,
                        CheckoutError.IDEMPOTENCY_KEY_REUSED,
                        "this Idempotency-Key was used for another request; use a new key",
                    )
                return _replay_order(uow, existing.order_id)
            raise ApiError(409, CheckoutError.PAYMENT_PENDING, "this checkout is being placed")
        if not state.lines:
            raise ApiError(422, CheckoutError.CART_EMPTY, "the cart is empty")
        priced = pricing.price_for_checkout(uow, items, state.coupon)
        if priced.unavailable:
            raise ApiError(
                422,
                CheckoutError.ITEMS_UNAVAILABLE,
                "some items in the cart cannot be sold",
                details=[{"sku": u.sku, "reason": u.reason} for u in priced.unavailable],
            )
        quote = priced.quote
        shipping = pricing.shipping_for(uow.settings, priced, body.shipping_address.country)
        total_cents = quote.total_cents + shipping.amount_cents
        order_id = str(uuid.uuid4())
        coupon_code = pricing.applied_coupon(quote)
        if coupon_code:  # the use is counted now, by the order, never by the cart
            pricing.hold_coupon(uow, coupon_code, user.user_id, order_id)
        orders.place(
            uow,
            order_id=order_id,
            user_id=user.user_id,
            idempotency_key=key,
            currency=quote.currency,
            subtotal_cents=quote.subtotal_cents,
            discount_cents=quote.discount_cents,
            total_cents=total_cents,
            coupon_code=coupon_code,
            shipping_address=body.shipping_address.model_dump(mode="json"),
            lines=[
                {
                    "sku": line.sku,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                    "discount_cents": line.discount_cents,
                    "total_cents": line.total_cents,
                }
                for line in quote.lines
            ],
            shipping=shipping,
        )
        uow.record(
            CartCheckedOut(
                cart_id=cart_id,
                user_id=user.user_id,
                order_id=order_id,
                item_count=sum(line.quantity for line in quote.lines),
            ),
            SOURCE,
        )
        # Last: a hot SKU's row stays locked from its reservation to the commit, so nothing
        # else of the transaction may run while it is held (buyers of it queue on that lock).
        try:
            inventory.reserve(uow, order_id, items, inventory.expiry(uow.settings))
        except OutOfStock as exc:  # leaving without commit: no hold, no order, key not kept
            raise inventory.as_api_error(exc) from exc
        requests.set_state(key, State.AUTHORIZING, order_id=order_id)
        uow.commit()
    return order_id, total_cents, quote.currency


# ---------------------------------------------------------------- step 3 (and the sweeper's)


def settle_payment(
    uow: UnitOfWork, order_id: str, result: PaymentResult | None, *, reason: str | None
) -> OrderStatus:
    """Settle a PENDING_PAYMENT order from what the gateway said (None: never authorized).

    Runs on the locked order, so the saga and the sweeper settle it once; an authorization
    that arrives for an order already settled otherwise is voided.
    """
    approved = payments.is_approved(result)
    with uow:
        order = orders.load(uow, order_id, lock=True)
        if order is None:
            raise not_found("order", order_id)
        if order.status is not OrderStatus.PENDING_PAYMENT:
            if (
                approved
                and result is not None
                and order.status is not OrderStatus.CONFIRMED
                and payments.payment_of(uow, order_id) is None
            ):
                payments.void_late_authorization(uow, result)
            return order.status
        requests = _store(uow)
        if approved and result is not None:
            if orders.confirm_paid(uow, order, result) is None:  # the hold had expired
                pricing.release_coupon_hold(uow, order_id)
                requests.set_state(order.idempotency_key, State.CANCELLED)
                uow.commit()
                return order.status
            requests.set_state(order.idempotency_key, State.CONFIRMED)
            cart.take_after_commit(uow, order.user_id)
        else:
            why = reason or (result.decline_reason if result else None) or "declined"
            orders.fail_payment(uow, order, reason=why, result=result)
            pricing.release_coupon_hold(uow, order_id)
            requests.set_state(order.idempotency_key, State.PAYMENT_FAILED)
        uow.commit()
    return order.status


# ---------------------------------------------------------------- answers


def _replay(uow: UnitOfWork, key: str, user_id: str, *, fresh: bool) -> Outcome:
    with uow:
        existing = _store(uow).get(key)
        assert existing is not None and existing.user_id == user_id
        outcome = _replay_order(uow, existing.order_id)
    if fresh:
        return Outcome(
            CheckoutPublic(order=outcome.body.order, replayed=False),
            201 if outcome.status_code == 200 else outcome.status_code,
        )
    return outcome


def _replay_order(uow: UnitOfWork, order_id: str | None) -> Outcome:
    if order_id is None:  # cannot happen once step 1 committed; be explicit anyway
        raise ApiError(409, CheckoutError.PAYMENT_PENDING, "this checkout is still being placed")
    order = orders.order_public(uow, order_id)
    if order.status is OrderStatus.PAYMENT_FAILED:
        reason = order.history[-1].reason if order.history else None
        # A replay is a final answer: never a 503, which would ask for the same request again.
        status, code = {
            "gateway_unavailable": (409, CheckoutError.CHECKOUT_FAILED),
            "gateway_refused": (402, CheckoutError.PAYMENT_REFUSED),
        }.get(reason or "", (402, CheckoutError.PAYMENT_DECLINED))
        raise ApiError(
            status,
            code,
            "the payment failed; the stock was released. Check out again with a new key",
            details={"order_id": order_id, "reason": reason},
        )
    if order.status is OrderStatus.CANCELLED:
        reason = order.history[-1].reason if order.history else None
        raise ApiError(
            409,
            CheckoutError.ORDER_CANCELLED,
            "the order was cancelled",
            details={"order_id": order_id, "reason": reason},
        )
    status_code = 202 if order.status is OrderStatus.PENDING_PAYMENT else 200
    return Outcome(CheckoutPublic(order=order, replayed=True), status_code)


# ---------------------------------------------------------------- the sweeper


@dataclass(frozen=True)
class SweepResult:
    confirmed: int = 0
    failed: int = 0
    cancelled: int = 0
    skipped: int = 0


def settle_pending(
    uow: UnitOfWork, *, now: datetime | None = None, grace_s: float | None = None
) -> SweepResult:
    """Settle every order left PENDING_PAYMENT longer than the grace period, by asking the
    gateway what became of its key: authorized → confirmed (or voided and cancelled if the
    hold was released meanwhile), never seen or declined → stock released, PAYMENT_FAILED.
    A gateway that does not answer leaves the order for the next run."""
    now = now or datetime.now(UTC)
    grace = uow.settings.orders_pending_grace_s if grace_s is None else grace_s
    with uow:
        pending = orders.pending_before(
            uow, now - timedelta(seconds=grace), uow.settings.orders_sweep_batch
        )
    counts = {"confirmed": 0, "failed": 0, "cancelled": 0, "skipped": 0}
    for order_id in pending:
        with uow:
            order = orders.load(uow, order_id, lock=False)
        if order is None:
            continue
        try:
            result = payments.lookup(uow, order.idempotency_key, order.total_cents, order.currency)
        except GatewayError as exc:
            log.warning("sweep: gateway did not answer for order %s: %s", order_id, exc)
            counts["skipped"] += 1
            continue
        status = settle_payment(
            uow, order_id, result, reason=None if result is not None else "never_authorized"
        )
        if status is OrderStatus.CONFIRMED:
            counts["confirmed"] += 1
        elif status is OrderStatus.CANCELLED:
            counts["cancelled"] += 1
        elif status is OrderStatus.PAYMENT_FAILED:
            counts["failed"] += 1
    return SweepResult(**counts)


def sweep(
    engine: Engine,
    client: redis.Redis,
    settings: Settings,
    gateway: PaymentGateway,
    *,
    now: datetime | None = None,
    grace_s: float | None = None,
) -> SweepResult:
    """`settle_pending` over the database (`shoplake orders sweep`, the API's maintenance)."""
    uow = SqlUnitOfWork(engine, redis_client=client, settings=settings, gateway=gateway)
    return settle_pending(uow, now=now, grace_s=grace_s)


def sweep_in_app(
    engine: Engine, client: redis.Redis, settings: Settings, gateway: Callable[[], PaymentGateway]
) -> SweepResult | None:
    """The API's periodic run: a failure is logged and never stops the other maintenance."""
    try:
        return sweep(engine, client, settings, gateway())
    except Exception:
        log.exception("order sweep failed; the next run retries")
        return None
