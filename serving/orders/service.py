"""Use cases of orders, each inside the caller's transaction (its unit of work).

The saga (serving/checkout) creates orders and settles their payment through `place`,
`confirm_paid` and `fail_payment`; customers read and cancel; staff list, advance and refund.
Every status change goes through the aggregate (`domain.Order.transition`), and its history row
and events are written here in the same transaction.

Gateway calls made here (void, capture, refund on cancel/ship/refund) happen while the order row
is locked: the change commits only if the gateway agreed, and a retry reuses the same derived
idempotency key (`<order key>:void` ...), so it never acts twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

import redis
from sqlalchemy import Connection, RowMapping

from serving import outbox
from serving.errors import ApiError, not_found
from serving.inventory import service as inventory
from serving.inventory.domain import NotReserved, Reservation
from serving.orders import domain, store
from serving.orders.domain import Order, OrderStatus
from serving.orders.schemas import (
    OrderLinePublic,
    OrderPublic,
    OrdersPage,
    PaymentPublic,
    StatusChangePublic,
)
from serving.payments.gateway import GatewayError, PaymentGateway, PaymentResult, PaymentStatus
from shoplake.config import Settings
from shoplake.events.order import OrderLine, OrderPlaced
from shoplake.events.payment import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    PaymentRefunded,
    PaymentVoided,
)

SOURCE = "/serving/orders"
log = logging.getLogger(__name__)


class OrderApiError:
    NOT_CANCELLABLE = "ORDER_NOT_CANCELLABLE"
    NOT_REFUNDABLE = "ORDER_NOT_REFUNDABLE"
    NOT_A_STAFF_STATUS = "NOT_A_STAFF_STATUS"
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"


def as_api_error(exc: domain.OrderError) -> ApiError:
    return ApiError(409, exc.code, exc.message, exc.details)


# ---------------------------------------------------------------- the aggregate in and out


def load(conn: Connection, order_id: str, *, lock: bool = True) -> Order | None:
    row = store.get_order(conn, order_id, lock=lock)
    if row is None:
        return None
    return Order(
        id=row["id"],
        user_id=row["user_id"],
        status=OrderStatus(row["status"]),
        total_cents=int(row["total_cents"]),
        currency=row["currency"],
    )


def save(conn: Connection, order: Order) -> None:
    """Write the status, the new history rows and the events the aggregate collected."""
    store.set_status(conn, order.id, order.status)
    for entry in order.history:
        store.add_history(conn, order.id, entry)
    for event in order.events:
        outbox.record(conn, event, SOURCE)
    order.history.clear()
    order.events.clear()


def transition(
    conn: Connection,
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
    save(conn, order)


def place(
    conn: Connection,
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
) -> None:
    """A new order in PENDING_PAYMENT with its lines, first history row and OrderPlaced."""
    store.insert_order(
        conn,
        id=order_id,
        user_id=user_id,
        status=OrderStatus.PENDING_PAYMENT.value,
        currency=currency,
        subtotal_cents=subtotal_cents,
        discount_cents=discount_cents,
        shipping_cents=0,
        total_cents=total_cents,
        coupon_code=coupon_code,
        shipping_address=shipping_address,
        idempotency_key=idempotency_key,
    )
    store.insert_lines(conn, order_id, lines)
    store.add_history(
        conn, order_id, domain.HistoryEntry(None, OrderStatus.PENDING_PAYMENT, "placed", user_id)
    )
    outbox.record(
        conn,
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
            total_cents=total_cents,
            currency=currency,
            ship_to_country=shipping_address.get("country"),
        ),
        SOURCE,
    )


# ---------------------------------------------------------------- payment outcomes


def _payment_event(
    kind: type[PaymentAuthorized]
    | type[PaymentCaptured]
    | type[PaymentVoided]
    | type[PaymentRefunded],
    payment: RowMapping,
) -> PaymentAuthorized | PaymentCaptured | PaymentVoided | PaymentRefunded:
    return kind(
        payment_id=payment["id"],
        order_id=payment["order_id"],
        amount_cents=int(payment["amount_cents"]),
        currency=payment["currency"],
        gateway=payment["gateway"],
    )


def _record_payment(
    conn: Connection, order_id: str, gateway: str, result: PaymentResult
) -> RowMapping:
    store.insert_payment(
        conn,
        id=str(uuid.uuid4()),
        order_id=order_id,
        idempotency_key=result.idempotency_key,
        gateway=gateway,
        reference=result.reference,
        status=result.status.value,
        amount_cents=result.amount_cents,
        currency=result.currency,
    )
    payment = store.payment_of(conn, order_id)
    assert payment is not None
    return payment


def confirm_paid(
    conn: Connection,
    order: Order,
    gateway: PaymentGateway,
    result: PaymentResult,
    *,
    reason: str = "payment authorized",
) -> list[Reservation] | None:
    """Authorized: sell the held stock, record the payment, CONFIRMED. None when the hold had
    been released meanwhile (expired): then the payment is voided and the order CANCELLED."""
    payment = _record_payment(conn, order.id, gateway.name, result)
    outbox.record(conn, _payment_event(PaymentAuthorized, payment), SOURCE)
    try:
        sold = inventory.commit_sale(conn, order.id)
    except NotReserved:
        _void(conn, gateway, payment)
        transition(conn, order, OrderStatus.CANCELLED, reason="reservation_expired")
        return None
    store.set_allocations(
        conn,
        order.id,
        [{"sku": r.sku, "warehouse_id": r.warehouse_id, "quantity": r.quantity} for r in sold],
    )
    transition(conn, order, OrderStatus.CONFIRMED, reason=reason)
    return sold


def fail_payment(
    conn: Connection,
    order: Order,
    client: redis.Redis,
    settings: Settings,
    *,
    gateway: str,
    reason: str,
    result: PaymentResult | None,
) -> None:
    """Declined, never authorized, or the gateway was away: give the stock back, PAYMENT_FAILED."""
    inventory.release(
        conn, order.id, f"payment_failed:{reason}", gate=inventory.gate_for(client, settings)
    )
    if result is not None:
        payment = _record_payment(conn, order.id, gateway, result)
        outbox.record(
            conn,
            PaymentDeclined(
                payment_id=payment["id"],
                order_id=order.id,
                amount_cents=int(payment["amount_cents"]),
                currency=payment["currency"],
                gateway=gateway,
                reason=reason,
            ),
            SOURCE,
        )
    transition(conn, order, OrderStatus.PAYMENT_FAILED, reason=reason)


def void_late_authorization(gateway: PaymentGateway, result: PaymentResult) -> None:
    """An authorization that arrived for an order already settled otherwise: give it back."""
    gateway.void(idempotency_key=f"{result.idempotency_key}:void", reference=result.reference)


def _void(conn: Connection, gateway: PaymentGateway, payment: RowMapping) -> None:
    _gateway_call(
        lambda: gateway.void(
            idempotency_key=f"{payment['idempotency_key']}:void", reference=payment["reference"]
        )
    )
    store.set_payment_status(conn, payment["id"], PaymentStatus.VOIDED.value)
    outbox.record(conn, _payment_event(PaymentVoided, payment), SOURCE)


def _refund(conn: Connection, gateway: PaymentGateway, payment: RowMapping) -> None:
    _gateway_call(
        lambda: gateway.refund(
            idempotency_key=f"{payment['idempotency_key']}:refund",
            reference=payment["reference"],
        )
    )
    store.set_payment_status(conn, payment["id"], PaymentStatus.REFUNDED.value)
    outbox.record(conn, _payment_event(PaymentRefunded, payment), SOURCE)


def _capture(conn: Connection, gateway: PaymentGateway, payment: RowMapping) -> None:
    _gateway_call(
        lambda: gateway.capture(
            idempotency_key=f"{payment['idempotency_key']}:capture",
            reference=payment["reference"],
        )
    )
    store.set_payment_status(conn, payment["id"], PaymentStatus.CAPTURED.value)
    outbox.record(conn, _payment_event(PaymentCaptured, payment), SOURCE)


def _gateway_call(call: Any) -> PaymentResult:
    try:
        result: PaymentResult = call()
    except GatewayError as exc:
        raise ApiError(
            503,
            OrderApiError.PAYMENT_UNAVAILABLE,
            "the payment gateway did not answer; nothing was changed, try again",
            details={"transient": exc.transient},
        ) from exc
    return result


def _give_money_back(conn: Connection, gateway: PaymentGateway, order_id: str) -> None:
    payment = store.payment_of(conn, order_id)
    if payment is None:
        return
    if payment["status"] == PaymentStatus.AUTHORIZED.value:
        _void(conn, gateway, payment)
    elif payment["status"] == PaymentStatus.CAPTURED.value:
        _refund(conn, gateway, payment)


def _restock(
    conn: Connection, client: redis.Redis, settings: Settings, order_id: str, actor_id: str
) -> None:
    """Units sold to a cancelled order go back where they came from."""
    row = store.get_order(conn, order_id)
    assert row is not None
    gate = inventory.gate_for(client, settings)
    for allocation in row["allocations"]:
        inventory.receive(
            conn,
            allocation["sku"],
            allocation["warehouse_id"],
            int(allocation["quantity"]),
            f"cancel:{order_id}",
            actor_id=actor_id,
            gate=gate,
        )
    store.set_allocations(conn, order_id, [])


# ---------------------------------------------------------------- customers


def _public(conn: Connection, rows: Sequence[RowMapping], *, detail: bool) -> list[OrderPublic]:
    lines = store.lines_of(conn, [row["id"] for row in rows])
    result = []
    for row in rows:
        public = OrderPublic(
            id=row["id"],
            user_id=row["user_id"],
            status=OrderStatus(row["status"]),
            currency=row["currency"],
            subtotal_cents=int(row["subtotal_cents"]),
            discount_cents=int(row["discount_cents"]),
            shipping_cents=int(row["shipping_cents"]),
            total_cents=int(row["total_cents"]),
            coupon_code=row["coupon_code"],
            shipping_address=row["shipping_address"],
            lines=[OrderLinePublic.model_validate(dict(line)) for line in lines[row["id"]]],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
        if detail:
            public.history = [
                StatusChangePublic.model_validate(dict(h))
                for h in store.history_of(conn, row["id"])
            ]
            payment = store.payment_of(conn, row["id"])
            if payment is not None:
                public.payment = PaymentPublic.model_validate(dict(payment))
        result.append(public)
    return result


def order_public(conn: Connection, order_id: str) -> OrderPublic:
    row = store.get_order(conn, order_id)
    if row is None:
        raise not_found("order", order_id)
    return _public(conn, [row], detail=True)[0]


def _own(conn: Connection, user_id: str, order_id: str, *, lock: bool) -> Order:
    order = load(conn, order_id, lock=lock)
    if order is None or order.user_id != user_id:  # another's order: 404, not 403
        raise not_found("order", order_id)
    return order


def get_for_user(conn: Connection, user_id: str, order_id: str) -> OrderPublic:
    _own(conn, user_id, order_id, lock=False)
    return order_public(conn, order_id)


def list_orders(
    conn: Connection,
    *,
    user_id: str | None,
    status: OrderStatus | None,
    limit: int,
    offset: int,
) -> OrdersPage:
    rows, total = store.list_orders(
        conn, user_id=user_id, status=status, limit=limit, offset=offset
    )
    return OrdersPage(
        items=_public(conn, rows, detail=False), total=total, limit=limit, offset=offset
    )


def cancel_for_user(
    conn: Connection,
    client: redis.Redis,
    settings: Settings,
    gateway: PaymentGateway,
    user_id: str,
    order_id: str,
    reason: str | None,
) -> OrderPublic:
    """Before shipping: void (or refund) the payment, put the stock back, CANCELLED."""
    order = _own(conn, user_id, order_id, lock=True)
    if order.status not in domain.CUSTOMER_CANCELLABLE:
        raise ApiError(
            409,
            OrderApiError.NOT_CANCELLABLE,
            f"an order in {order.status} cannot be cancelled",
            details={"status": order.status.value},
        )
    _give_money_back(conn, gateway, order_id)
    inventory.release(conn, order_id, "cancelled", gate=inventory.gate_for(client, settings))
    _restock(conn, client, settings, order_id, user_id)
    transition(conn, order, OrderStatus.CANCELLED, reason=reason or "cancelled by customer")
    return order_public(conn, order_id)


# ---------------------------------------------------------------- staff


def advance(
    conn: Connection,
    gateway: PaymentGateway,
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
    order = load(conn, order_id, lock=True)
    if order is None:
        raise not_found("order", order_id)
    if not domain.can_transition(order.status, to_status):
        raise as_api_error(domain.IllegalTransition(order.id, order.status, to_status))
    if to_status is OrderStatus.SHIPPED:
        payment = store.payment_of(conn, order_id)
        if payment is not None and payment["status"] == PaymentStatus.AUTHORIZED.value:
            _capture(conn, gateway, payment)
    transition(conn, order, to_status, reason=reason, actor_id=actor_id)
    return order_public(conn, order_id)


def refund(
    conn: Connection,
    client: redis.Redis,
    settings: Settings,
    gateway: PaymentGateway,
    order_id: str,
    reason: str | None,
    actor_id: str,
) -> OrderPublic:
    """Give the whole payment back (void if only authorized); unshipped stock goes back too."""
    order = load(conn, order_id, lock=True)
    if order is None:
        raise not_found("order", order_id)
    if order.status not in domain.REFUNDABLE:
        raise ApiError(
            409,
            OrderApiError.NOT_REFUNDABLE,
            f"an order in {order.status} cannot be refunded",
            details={"status": order.status.value},
        )
    _give_money_back(conn, gateway, order_id)
    if order.status in (OrderStatus.CONFIRMED, OrderStatus.FULFILLING):
        _restock(conn, client, settings, order_id, actor_id)
    transition(conn, order, OrderStatus.REFUNDED, reason=reason or "refunded", actor_id=actor_id)
    return order_public(conn, order_id)
