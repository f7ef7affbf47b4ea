"""Use cases of orders, each inside a unit of work (`serving/unit_of_work.py`).

The saga (serving/checkout) creates orders and settles their payment through `place`,
`confirm_paid` and `fail_payment`, inside its own units; customers read and cancel, staff
list, advance and refund, each in a unit of their own (`get_for_user`, `list_orders`,
`cancel_for_user`, `advance`, `refund` enter the unit they are given and commit it). Every
status change goes through the aggregate (`domain.Order.transition`), and its history row and
events are written in the same transaction.

Payment operations are payments' (`serving.payments.service`): they run while the order row
is locked, so a cancel, shipment or refund commits only if the gateway agreed, and a retry
reuses the same derived idempotency key (`<order key>:void` ...), so it never acts twice.

Fulfilment and returns move their orders through `snapshot`, `start_fulfilment`,
`mark_shipped`, `mark_delivered`, `mark_returned` and `mark_refunded`, inside their own units
and on the order row they locked first. Orders the archive job moved out of Postgres are read
back from the lake (`serving.archive`) by `get_for_user`, `order_public` and the customer's
`list_orders`, in the same shape with `archived: true`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import redis
from redis.exceptions import RedisError
from sqlalchemy import Engine

from serving.archive import service as archive
from serving.archive.service import ArchivedOrder
from serving.errors import ApiError, not_found
from serving.inventory import service as inventory
from serving.inventory.domain import NotReserved, Reservation
from serving.orders import domain
from serving.orders.domain import HistoryEntry, Order, OrderStatus
from serving.orders.schemas import (
    OrderLinePublic,
    OrderPublic,
    OrdersPage,
    PaymentPublic,
    StatusChangePublic,
)
from serving.orders.store import (
    OWNED_STATUSES,
    OrderStore,
    OwnedSkusCache,
    RedisOwnedSkus,
    Row,
    SqlOrderStore,
    skus_bought_by,
)
from serving.pagination import (
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    fingerprint,
    invalid_cursor,
)
from serving.payments import service as payments
from serving.payments.domain import Payment
from serving.payments.gateway import PaymentResult, PaymentStatus
from serving.pricing.schemas import ShippingPublic
from serving.unit_of_work import NoRedis, UnitOfWork
from shoplake.events.order import OrderLine, OrderPlaced

SOURCE = "/serving/orders"
STORE = "orders"
OWNED_CACHE = "orders.owned"
log = logging.getLogger(__name__)


class OrderApiError(StrEnum):
    NOT_CANCELLABLE = "ORDER_NOT_CANCELLABLE"
    NOT_REFUNDABLE = "ORDER_NOT_REFUNDABLE"
    NOT_A_STAFF_STATUS = "NOT_A_STAFF_STATUS"


def as_api_error(exc: domain.OrderError) -> ApiError:
    return ApiError(409, exc.code, exc.message, exc.details)


def _store(uow: UnitOfWork) -> OrderStore:
    return uow.store(STORE, SqlOrderStore.on)


def _forget_owned(uow: UnitOfWork, user_id: str) -> None:
    # Opened only after the commit, and skipped by a unit made without Redis (a sweep, a
    # script): the cache's TTL bounds what it leaves. A forget that fails is logged by the unit.
    try:
        cache: OwnedSkusCache = uow.store(OWNED_CACHE, RedisOwnedSkus.on)
    except NoRedis:
        return
    cache.forget(user_id)


def changes_ownership(entry: HistoryEntry) -> bool:
    return (entry.from_status in OWNED_STATUSES) != (entry.to_status in OWNED_STATUSES)


# ---------------------------------------------------------------- the aggregate in and out


def load(uow: UnitOfWork, order_id: str, *, lock: bool = True) -> Order | None:
    row = _store(uow).get(order_id, lock=lock)
    if row is None:
        return None
    return Order(
        id=row["id"],
        user_id=row["user_id"],
        status=OrderStatus(row["status"]),
        total_cents=int(row["total_cents"]),
        currency=row["currency"],
        idempotency_key=row["idempotency_key"],
        coupon_code=row["coupon_code"],
    )


def save(uow: UnitOfWork, order: Order) -> None:
    """Write the status, the new history rows and the events the aggregate collected."""
    store = _store(uow)
    store.set_status(order.id, order.status)
    for entry in order.history:
        store.add_history(order.id, entry)
    if any(changes_ownership(entry) for entry in order.history):
        uow.after_commit(lambda: _forget_owned(uow, order.user_id))
    for event in order.events:
        uow.record(event, SOURCE)
    order.history.clear()
    order.events.clear()


def transition(
    uow: UnitOfWork,
    order: Order,
    to_status: OrderStatus,
    *,
    reason: str | None = None,
    actor_id: str | None = None,
) -> None:
    try:
        order.transition(to_status, reason=reason, actor_id=actor_id)
    except domain.OrderError as exc:
        raise as_api_error(exc) from exc
    save(uow, order)


def place(
    uow: UnitOfWork,
    *,
    order_id: str,
    user_id: str,
    idempotency_key: str,
    currency: str,
    subtotal_cents: int,
    discount_cents: int,
    total_cents: int,
    coupon_code: str | None,
    shipping_address: dict[str, Any],
    lines: Sequence[dict[str, Any]],
    shipping: ShippingPublic | None = None,
) -> None:
    """A new order in PENDING_PAYMENT with its lines, first history row and OrderPlaced.
    `total_cents` includes the shipping quoted in `shipping`."""
    shipping_cents = shipping.amount_cents if shipping is not None else 0
    store = _store(uow)
    store.insert_order(
        {
            "id": order_id,
            "user_id": user_id,
            "status": OrderStatus.PENDING_PAYMENT.value,
            "currency": currency,
            "subtotal_cents": subtotal_cents,
            "discount_cents": discount_cents,
            "shipping_cents": shipping_cents,
            "shipping_quote": shipping.model_dump(mode="json") if shipping is not None else None,
            "total_cents": total_cents,
            "coupon_code": coupon_code,
            "shipping_address": shipping_address,
            "idempotency_key": idempotency_key,
        }
    )
    store.insert_lines(order_id, lines)
    store.add_history(
        order_id, domain.HistoryEntry(None, OrderStatus.PENDING_PAYMENT, "placed", user_id)
    )
    uow.record(
        OrderPlaced(
            order_id=order_id,
            user_id=user_id,
            lines=[
                OrderLine(
                    sku=line["sku"],
                    quantity=line["quantity"],
                    unit_price_cents=line["unit_price_cents"],
                    discount_cents=line["discount_cents"],
                )
                for line in lines
            ],
            subtotal_cents=subtotal_cents,
            discount_cents=discount_cents,
            shipping_cents=shipping_cents,
            total_cents=total_cents,
            currency=currency,
            ship_to_country=shipping_address.get("country"),
        ),
        SOURCE,
    )


def pending_before(uow: UnitOfWork, before: datetime, limit: int) -> list[str]:
    """Orders still PENDING_PAYMENT that were placed before `before`, oldest first."""
    return _store(uow).stale_pending(before, limit)


# ---------------------------------------------------------------- payment outcomes


def confirm_paid(
    uow: UnitOfWork, order: Order, result: PaymentResult, *, reason: str = "payment authorized"
) -> list[Reservation] | None:
    """Authorized: record the payment, sell the held stock, CONFIRMED. None when the hold had
    been released meanwhile (expired): then the payment is voided and the order CANCELLED."""
    payment = payments.record_authorization(uow, order.id, result)
    try:
        sold = inventory.commit_sale(uow, order.id)
    except NotReserved:
        payments.void(uow, payment)
        transition(uow, order, OrderStatus.CANCELLED, reason="reservation_expired")
        return None
    _store(uow).set_allocations(
        order.id,
        [{"sku": r.sku, "warehouse_id": r.warehouse_id, "quantity": r.quantity} for r in sold],
    )
    transition(uow, order, OrderStatus.CONFIRMED, reason=reason)
    return sold


def fail_payment(
    uow: UnitOfWork, order: Order, *, reason: str, result: PaymentResult | None
) -> None:
    """Declined, never authorized, or the gateway was away: give the stock back, PAYMENT_FAILED."""
    inventory.release(uow, order.id, f"payment_failed:{reason}")
    if result is not None:
        payments.record_decline(uow, order.id, result, reason)
    transition(uow, order, OrderStatus.PAYMENT_FAILED, reason=reason)


def _restock(uow: UnitOfWork, order_id: str, actor_id: str) -> None:
    """Units sold to a cancelled order go back where they came from."""
    store = _store(uow)
    row = store.get(order_id)
    assert row is not None
    for allocation in row["allocations"]:
        inventory.receive(
            uow,
            allocation["sku"],
            allocation["warehouse_id"],
            int(allocation["quantity"]),
            f"cancel:{order_id}",
            actor_id=actor_id,
        )
    store.set_allocations(order_id, [])


# ---------------------------------------------------------------- reading


def _payment_public(payment: Payment, refunded_cents: int) -> PaymentPublic:
    return PaymentPublic(
        gateway=payment.gateway,
        reference=payment.reference,
        status=payment.status.value,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        refunded_cents=refunded_cents,
    )


def _row_public(row: Row, lines: Sequence[Row], *, archived: bool) -> OrderPublic:
    quote = row.get("shipping_quote")
    return OrderPublic(
        id=row["id"],
        user_id=str(row["user_id"]),
        status=OrderStatus(row["status"]),
        currency=row["currency"],
        subtotal_cents=int(row["subtotal_cents"]),
        discount_cents=int(row["discount_cents"]),
        shipping_cents=int(row["shipping_cents"]),
        total_cents=int(row["total_cents"]),
        coupon_code=row["coupon_code"],
        shipping_address=row["shipping_address"],
        lines=[OrderLinePublic.model_validate(dict(line)) for line in lines],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        shipping=ShippingPublic.model_validate(quote) if quote else None,
        archived=archived,
    )


def _public(uow: UnitOfWork, rows: Sequence[Row], *, detail: bool) -> list[OrderPublic]:
    store = _store(uow)
    lines = store.lines_of([row["id"] for row in rows])
    result = []
    for row in rows:
        public = _row_public(row, lines[row["id"]], archived=False)
        if detail:
            public.history = [
                StatusChangePublic.model_validate(dict(h)) for h in store.history_of(row["id"])
            ]
            payment = payments.payment_of(uow, row["id"])
            if payment is not None:
                public.payment = _payment_public(payment, payments.refunded_cents(uow, payment))
        result.append(public)
    return result


def _archived_public(found: ArchivedOrder, *, detail: bool) -> OrderPublic:
    public = _row_public(
        found.order, sorted(found.of("order_lines"), key=lambda r: r["sku"]), archived=True
    )
    if detail:
        history = sorted(found.of("order_status_history"), key=lambda h: h["id"])
        public.history = [StatusChangePublic.model_validate(h) for h in history]
        paid = sorted(found.of("payments"), key=lambda p: p["created_at"])
        if paid:
            first = paid[0]
            refunded = sum(
                int(r["amount_cents"])
                for r in found.of("payment_refunds")
                if r["payment_id"] == first["id"]
            )
            public.payment = PaymentPublic(
                gateway=first["gateway"],
                reference=first["reference"],
                status=first["status"],
                amount_cents=int(first["amount_cents"]),
                currency=first["currency"],
                refunded_cents=refunded,
            )
    return public


def archived(uow: UnitOfWork, order_id: str) -> ArchivedOrder | None:
    """The order as the archive holds it (None when it is not archived)."""
    return archive.of(uow).order(order_id)


def order_public(uow: UnitOfWork, order_id: str) -> OrderPublic:
    """The order with its history and payment, inside the caller's unit; an archived order
    is answered from the archive."""
    row = _store(uow).get(order_id)
    if row is not None:
        return _public(uow, [row], detail=True)[0]
    found = archived(uow, order_id)
    if found is None:
        raise not_found("order", order_id)
    return _archived_public(found, detail=True)


def owner_of(uow: UnitOfWork, order_id: str) -> str | None:
    """Whose order it is, live or archived (None: no such order)."""
    row = _store(uow).get(order_id)
    if row is not None:
        return str(row["user_id"])
    found = archived(uow, order_id)
    return None if found is None else str(found.order["user_id"])


def _own(uow: UnitOfWork, user_id: str, order_id: str, *, lock: bool) -> Order:
    order = load(uow, order_id, lock=lock)
    if order is None or order.user_id != user_id:  # another's order: 404, not 403
        raise not_found("order", order_id)
    return order


def get_for_user(uow: UnitOfWork, user_id: str, order_id: str) -> OrderPublic:
    with uow:
        if owner_of(uow, order_id) != user_id:  # another's order: 404, not 403
            raise not_found("order", order_id)
        return order_public(uow, order_id)


def lookup(uow: UnitOfWork, order_id: str) -> OrderPublic:
    """Any order by id, live or archived (an audit's read)."""
    with uow:
        return order_public(uow, order_id)


def list_orders(
    uow: UnitOfWork,
    *,
    user_id: str | None,
    status: OrderStatus | None,
    limit: int,
    cursor: str | None = None,
    include_archive: bool = False,
) -> OrdersPage:
    """Newest first, a page at a time (keyset: created_at, then id). With `include_archive`
    (a customer's own history), archived orders are merged in by the same key, so one cursor
    pages through Postgres and the archive alike."""
    query = fingerprint({"user_id": user_id, "status": status})
    try:
        after = _order_key(decode_cursor(cursor, ORDERS_LISTING, query)) if cursor else None
    except InvalidCursor as exc:
        raise invalid_cursor(exc) from exc
    with uow:
        rows: list[tuple[Row, bool]] = [
            (row, False)
            for row in _store(uow).list_orders(
                user_id=user_id, status=status, limit=limit + 1, after=after
            )
        ]
        if include_archive and user_id is not None and status is None:
            live = {row["id"] for row, _ in rows}
            # An order being archived is in both for a moment: Postgres answers for it.
            rows += [
                (row, True)
                for row in archive.of(uow).orders_of(user_id, limit=limit + 1, before=after)
                if row["id"] not in live
            ]
            rows.sort(key=lambda pair: (pair[0]["created_at"], pair[0]["id"]), reverse=True)
            rows = rows[: limit + 1]
        page = rows[:limit]
        live_items = iter(_public(uow, [row for row, old in page if not old], detail=False))
        archived_lines = archive.of(uow).lines_of([row["id"] for row, old in page if old])
        items = [
            _row_public(row, archived_lines[row["id"]], archived=True) if old else next(live_items)
            for row, old in page
        ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        key = {"at": last["created_at"].isoformat(), "id": str(last["id"])}
        next_cursor = encode_cursor(ORDERS_LISTING, query, key)
    return OrdersPage(items=items, next_cursor=next_cursor)


ORDERS_LISTING = "orders"


def _order_key(key: dict[str, Any]) -> tuple[datetime, str]:
    at, order_id = key.get("at"), key.get("id")
    if not isinstance(at, str) or not isinstance(order_id, str) or not order_id:
        raise InvalidCursor("the cursor carries no order key")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError as exc:
        raise InvalidCursor("the cursor's time is not valid") from exc
    if moment.tzinfo is None:
        raise InvalidCursor("the cursor's time has no timezone")
    return moment, order_id


# ---------------------------------------------------------------- fulfilment and returns


@dataclass(frozen=True)
class OrderSnapshot:
    """What fulfilment and returns read of an order: the aggregate (to move it) and its facts."""

    order: Order
    lines: list[Row]
    allocations: list[dict[str, Any]]
    shipping_address: dict[str, Any]
    subtotal_cents: int
    shipping_cents: int
    created_at: datetime
    delivered_at: datetime | None


def snapshot(uow: UnitOfWork, order_id: str, *, lock: bool) -> OrderSnapshot | None:
    """The order and its lines, allocations and delivery time; with `lock`, the order row is
    locked until the transaction ends (lock the order before its shipments or returns)."""
    order = load(uow, order_id, lock=lock)
    if order is None:
        return None
    store = _store(uow)
    row = store.get(order_id)
    assert row is not None
    delivered = [
        h["at"] for h in store.history_of(order_id) if h["to_status"] == OrderStatus.DELIVERED
    ]
    return OrderSnapshot(
        order=order,
        lines=[dict(line) for line in store.lines_of([order_id])[order_id]],
        allocations=list(row["allocations"] or []),
        shipping_address=dict(row["shipping_address"]),
        subtotal_cents=int(row["subtotal_cents"]),
        shipping_cents=int(row["shipping_cents"]),
        created_at=row["created_at"],
        delivered_at=delivered[-1] if delivered else None,
    )


def _move(
    uow: UnitOfWork,
    order: Order,
    to_status: OrderStatus,
    reason: str | None,
    actor_id: str | None,
) -> None:
    """Move a locked order; SHIPPED captures its authorized payment first."""
    if not domain.can_transition(order.status, to_status):
        raise as_api_error(domain.IllegalTransition(order.id, order.status, to_status))
    if to_status is OrderStatus.SHIPPED:
        payment = payments.payment_of(uow, order.id)
        if payment is not None and payment.status is PaymentStatus.AUTHORIZED:
            payments.capture(uow, payment)
    transition(uow, order, to_status, reason=reason, actor_id=actor_id)


def start_fulfilment(uow: UnitOfWork, order: Order) -> bool:
    """CONFIRMED → FULFILLING once its shipments exist; False when it is past that already."""
    if order.status is not OrderStatus.CONFIRMED:
        return False
    _move(uow, order, OrderStatus.FULFILLING, "shipments created", None)
    return True


def mark_shipped(uow: UnitOfWork, order: Order, actor_id: str | None) -> bool:
    """Every shipment left: SHIPPED, and the payment is captured. False if already past."""
    if order.status is OrderStatus.CONFIRMED:  # shipped before the consumer moved it
        _move(uow, order, OrderStatus.FULFILLING, "shipments created", None)
    if order.status is not OrderStatus.FULFILLING:
        return False
    _move(uow, order, OrderStatus.SHIPPED, "every shipment handed to the carrier", actor_id)
    return True


def mark_delivered(uow: UnitOfWork, order: Order) -> bool:
    """Every shipment arrived: DELIVERED. False if the order is not SHIPPED."""
    if order.status is not OrderStatus.SHIPPED:
        return False
    _move(uow, order, OrderStatus.DELIVERED, "every shipment delivered", None)
    return True


def mark_returned(uow: UnitOfWork, order: Order, actor_id: str | None) -> bool:
    """Every unit came back: RETURNED. False if the order is not DELIVERED."""
    if order.status is not OrderStatus.DELIVERED:
        return False
    _move(uow, order, OrderStatus.RETURNED, "every unit returned", actor_id)
    return True


def mark_refunded(uow: UnitOfWork, order: Order, actor_id: str | None) -> bool:
    """A returned order's money is back: REFUNDED. False if the order is not RETURNED."""
    if order.status is not OrderStatus.RETURNED:
        return False
    _move(uow, order, OrderStatus.REFUNDED, "returned and refunded", actor_id)
    return True


# ---------------------------------------------------------------- customers


def cancel_for_user(
    uow: UnitOfWork, user_id: str, order_id: str, reason: str | None
) -> OrderPublic:
    """Before shipping: void (or refund) the payment, put the stock back, CANCELLED."""
    with uow:
        order = _own(uow, user_id, order_id, lock=True)
        if order.status not in domain.CUSTOMER_CANCELLABLE:
            raise ApiError(
                409,
                OrderApiError.NOT_CANCELLABLE,
                f"an order in {order.status} cannot be cancelled",
                details={"status": order.status.value},
            )
        payments.give_money_back(uow, order_id)
        inventory.release(uow, order_id, "cancelled")
        _restock(uow, order_id, user_id)
        transition(uow, order, OrderStatus.CANCELLED, reason=reason or "cancelled by customer")
        public = order_public(uow, order_id)
        uow.commit()
    return public


# ---------------------------------------------------------------- staff


def advance(
    uow: UnitOfWork,
    order_id: str,
    to_status: OrderStatus,
    reason: str | None,
    actor_id: str,
) -> OrderPublic:
    """FULFILLING, SHIPPED, DELIVERED; shipping captures the authorized payment."""
    if to_status not in domain.STAFF_ADVANCES:
        raise ApiError(
            422,
            OrderApiError.NOT_A_STAFF_STATUS,
            "staff may set FULFILLING, SHIPPED or DELIVERED here",
            details={"status": to_status.value},
        )
    with uow:
        order = load(uow, order_id, lock=True)
        if order is None:
            raise not_found("order", order_id)
        _move(uow, order, to_status, reason, actor_id)
        public = order_public(uow, order_id)
        uow.commit()
    return public


def refund(uow: UnitOfWork, order_id: str, reason: str | None, actor_id: str) -> OrderPublic:
    """Give the whole payment back (void if only authorized); unshipped stock goes back too."""
    with uow:
        order = load(uow, order_id, lock=True)
        if order is None:
            raise not_found("order", order_id)
        if order.status not in domain.REFUNDABLE:
            raise ApiError(
                409,
                OrderApiError.NOT_REFUNDABLE,
                f"an order in {order.status} cannot be refunded",
                details={"status": order.status.value},
            )
        payments.give_money_back(uow, order_id)
        if order.status in (OrderStatus.CONFIRMED, OrderStatus.FULFILLING):
            _restock(uow, order_id, actor_id)
        transition(uow, order, OrderStatus.REFUNDED, reason=reason or "refunded", actor_id=actor_id)
        public = order_public(uow, order_id)
        uow.commit()
    return public


def skus_bought(engine: Engine, client: redis.Redis, user_id: str) -> set[str]:
    """The SKUs of the user's paid, not cancelled orders (recommendations filter them out):
    from the Redis cache when it has them, else from Postgres, then cached. Redis failing
    only costs the query."""
    cache: OwnedSkusCache = RedisOwnedSkus(client)
    try:
        cached = cache.get(user_id)
    except RedisError as exc:
        log.warning("owned SKUs not cached: %s", exc)
        cached = None
    if cached is not None:
        return cached
    with engine.connect() as conn:
        skus = skus_bought_by(conn, user_id)
    with contextlib.suppress(RedisError):
        cache.put(user_id, skus)
    return skus
