"""Use cases of returns, each inside a unit of work (`serving/unit_of_work.py`).

- A shopper asks to return units of a delivered order (`request_return`): within the window
  (`SHOPLAKE_RETURNS_WINDOW_DAYS` after delivery), at most what was bought and not claimed by
  an earlier return; ReturnRequested.
- Ops receive the units (`receive`): each line restocked into a warehouse (a receipt in the
  ledger) or written off as damaged (a receipt and an adjustment), through the inventory
  service; ReturnReceived; the order RETURNED when every unit of it came back.
- Ops refund (`refund`): the return's share of what was paid (`domain.refund_cents`) goes
  back through the payment gateway under the key `<order key>:refund:return:<id>`, once:
  the order row is locked first, so twenty concurrent calls refund once and answer alike,
  and a retry after a lost answer reuses the key; ReturnRefunded; the order REFUNDED once it
  was RETURNED and every return of it is refunded.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from serving.errors import ApiError, not_found
from serving.inventory import service as inventory
from serving.orders import service as orders
from serving.orders.domain import OrderStatus
from serving.orders.service import OrderSnapshot
from serving.pagination import (
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    fingerprint,
    invalid_cursor,
)
from serving.payments import service as payments
from serving.returns import domain
from serving.returns.domain import Disposition, OrderLine, ReturnStatus
from serving.returns.schemas import (
    ReceiveRequest,
    ReturnLinePublic,
    ReturnPublic,
    ReturnRequest,
    ReturnsPage,
)
from serving.returns.store import ReturnStore, Row, SqlReturnStore
from serving.unit_of_work import UnitOfWork
from shoplake.events.returns import ReceivedLine, ReturnLine
from shoplake.events.returns import ReturnReceived as ReturnReceivedEvent
from shoplake.events.returns import ReturnRefunded as ReturnRefundedEvent
from shoplake.events.returns import ReturnRequested as ReturnRequestedEvent

SOURCE = "/serving/returns"
STORE = "returns"
LISTING = "returns"


class ReturnError(StrEnum):
    NOT_RETURNABLE = "ORDER_NOT_RETURNABLE"
    WINDOW_CLOSED = "RETURN_WINDOW_CLOSED"
    INVALID_LINES = "INVALID_RETURN_LINES"
    NOT_RECEIVED = "RETURN_NOT_RECEIVED"
    ALREADY_RECEIVED = "RETURN_ALREADY_RECEIVED"
    NO_PAYMENT = "NO_CAPTURED_PAYMENT"


def _store(uow: UnitOfWork) -> ReturnStore:
    return uow.store(STORE, SqlReturnStore.on)


def _now() -> datetime:
    return datetime.now(UTC)


def _order_lines(snap: OrderSnapshot) -> list[OrderLine]:
    return [
        OrderLine(str(line["sku"]), int(line["quantity"]), int(line["total_cents"]))
        for line in snap.lines
    ]


def _public(
    row: Mapping[str, Any], lines: Sequence[Mapping[str, Any]], closes: datetime | None
) -> ReturnPublic:
    return ReturnPublic(
        id=row["id"],
        order_id=row["order_id"],
        status=ReturnStatus(row["status"]),
        reason=row["reason"],
        lines=[ReturnLinePublic.model_validate(dict(line)) for line in lines],
        currency=row["currency"],
        refund_cents=row["refund_cents"],
        created_at=row["created_at"],
        received_at=row["received_at"],
        refunded_at=row["refunded_at"],
        window_closes_at=closes,
    )


def _publics(uow: UnitOfWork, rows: Sequence[Row]) -> list[ReturnPublic]:
    lines = _store(uow).lines_of([row["id"] for row in rows])
    return [_public(row, lines[row["id"]], None) for row in rows]


def _claimed(uow: UnitOfWork, order_id: str, statuses: set[ReturnStatus]) -> dict[str, int]:
    """Units per SKU in the order's returns of these statuses."""
    store = _store(uow)
    rows = [r for r in store.of_order(order_id) if ReturnStatus(r["status"]) in statuses]
    lines = store.lines_of([row["id"] for row in rows])
    return domain.units(
        (line["sku"], int(line["quantity"])) for row in rows for line in lines[row["id"]]
    )


# ---------------------------------------------------------------- shoppers


def request_return(
    uow: UnitOfWork, user_id: str, order_id: str, body: ReturnRequest
) -> ReturnPublic:
    """A return of delivered units, inside the window; 409 or 422 saying why not."""
    settings = uow.settings
    with uow:
        snap = orders.snapshot(uow, order_id, lock=True)
        if snap is None or snap.order.user_id != user_id:  # another's order: 404, not 403
            raise not_found("order", order_id)
        if snap.order.status is not OrderStatus.DELIVERED or snap.delivered_at is None:
            raise ApiError(
                409,
                ReturnError.NOT_RETURNABLE,
                f"an order in {snap.order.status} cannot be returned; delivered ones can",
                details={"status": snap.order.status.value},
            )
        closes = domain.window_closes(snap.delivered_at, settings.returns_window_days)
        if _now() > closes:
            raise ApiError(
                409,
                ReturnError.WINDOW_CLOSED,
                f"returns of this order were accepted until {closes.isoformat()}",
                details={"window_closed_at": closes.isoformat()},
            )
        claimed = _claimed(uow, order_id, set(ReturnStatus))
        left = domain.returnable(_order_lines(snap), claimed.items())
        asked = [(line.sku, line.quantity) for line in body.lines]
        problems = domain.check_request(asked, left)
        if problems:
            raise ApiError(
                422,
                ReturnError.INVALID_LINES,
                "some lines cannot be returned",
                details=[
                    {
                        "sku": p.sku,
                        "asked": p.asked,
                        "returnable": p.returnable,
                        "reason": p.reason,
                    }
                    for p in problems
                ],
            )
        return_id = str(uuid.uuid4())
        _store(uow).insert(
            {
                "id": return_id,
                "order_id": order_id,
                "user_id": user_id,
                "status": ReturnStatus.REQUESTED.value,
                "reason": body.reason,
                "currency": snap.order.currency,
            },
            [{"sku": sku, "quantity": quantity} for sku, quantity in asked],
        )
        uow.record(
            ReturnRequestedEvent(
                return_id=return_id,
                order_id=order_id,
                user_id=user_id,
                lines=[ReturnLine(sku=sku, quantity=quantity) for sku, quantity in asked],
                reason=body.reason,
            ),
            SOURCE,
        )
        row = _store(uow).get(return_id)
        assert row is not None
        public = _public(row, _store(uow).lines_of([return_id])[return_id], closes)
        uow.commit()
    return public


def list_for_user(uow: UnitOfWork, user_id: str, order_id: str) -> list[ReturnPublic]:
    """The returns of the caller's order, oldest first (archived orders' too)."""
    with uow:
        if orders.owner_of(uow, order_id) != user_id:
            raise not_found("order", order_id)
        rows = _store(uow).of_order(order_id)
        if rows:
            return _publics(uow, rows)
        found = orders.archived(uow, order_id)
    if found is None:
        return []
    lines: dict[str, list[Row]] = {}
    for line in found.of("return_lines"):
        lines.setdefault(line["return_id"], []).append(line)
    return [
        _public(row, sorted(lines.get(row["id"], []), key=lambda x: x["sku"]), None)
        for row in sorted(found.of("returns"), key=lambda r: (r["created_at"], r["id"]))
    ]


# ---------------------------------------------------------------- ops


def get(uow: UnitOfWork, return_id: str) -> ReturnPublic:
    with uow:
        row = _store(uow).get(return_id)
        if row is None:
            raise not_found("return", return_id)
        return _publics(uow, [row])[0]


def listing(
    uow: UnitOfWork, *, status: ReturnStatus | None, limit: int, cursor: str | None
) -> ReturnsPage:
    """Returns oldest first (what to receive or refund next), a page at a time."""
    query = fingerprint({"status": status})
    after = None
    if cursor:
        try:
            key = decode_cursor(cursor, LISTING, query)
            at, return_id = key.get("at"), key.get("id")
            if not isinstance(at, str) or not isinstance(return_id, str):
                raise InvalidCursor("the cursor carries no return key")
            moment = datetime.fromisoformat(at)
            if moment.tzinfo is None:
                raise InvalidCursor("the cursor's time has no timezone")
            after = (moment, return_id)
        except ValueError as exc:  # InvalidCursor is a ValueError, and so is a bad time
            raise invalid_cursor(InvalidCursor(str(exc))) from exc
    with uow:
        rows = _store(uow).listing(
            status=status.value if status else None, limit=limit + 1, after=after
        )
        items = _publics(uow, rows[:limit])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(
            LISTING, query, {"at": last["created_at"].isoformat(), "id": str(last["id"])}
        )
    return ReturnsPage(items=items, next_cursor=next_cursor)


def _locked(uow: UnitOfWork, return_id: str) -> tuple[OrderSnapshot, Row]:
    """The return's order, then the return, locked in that order."""
    store = _store(uow)
    row = store.get(return_id)
    if row is None:
        raise not_found("return", return_id)
    snap = orders.snapshot(uow, row["order_id"], lock=True)
    locked = store.get(return_id, lock=True)
    assert snap is not None and locked is not None
    return snap, locked


def _shipped_from(snap: OrderSnapshot, sku: str, default: str) -> str:
    """The warehouse the SKU's units were sold from (the first, when split)."""
    warehouses = sorted(str(a["warehouse_id"]) for a in snap.allocations if a["sku"] == sku)
    return warehouses[0] if warehouses else default


def receive(uow: UnitOfWork, return_id: str, body: ReceiveRequest, actor_id: str) -> ReturnPublic:
    """Book the returned units back in: restocked (a receipt) or written off as damaged."""
    with uow:
        snap, row = _locked(uow, return_id)
        if ReturnStatus(row["status"]) is not ReturnStatus.REQUESTED:
            if body.lines:
                raise ApiError(
                    409,
                    ReturnError.ALREADY_RECEIVED,
                    "this return was received already; its units were booked then",
                    details={"status": row["status"]},
                )
            return _publics(uow, [row])[0]  # the same call again: the same answer
        store = _store(uow)
        lines = store.lines_of([return_id])[return_id]
        skus = {line["sku"] for line in lines}
        told = {line.sku: line for line in body.lines}
        unknown = sorted(set(told) - skus)
        if unknown:
            raise ApiError(
                422,
                ReturnError.INVALID_LINES,
                "these SKUs are not in the return",
                details={"skus": unknown},
            )
        default = uow.settings.fulfilment_default_warehouse
        received, restocked, written_off = [], 0, 0
        for line in lines:
            sku, quantity = str(line["sku"]), int(line["quantity"])
            how = told.get(sku)
            disposition = how.disposition if how else Disposition.RESTOCK
            warehouse = (how.warehouse_id if how else None) or _shipped_from(snap, sku, default)
            reference = f"return:{return_id}"
            if inventory.is_tracked(uow, sku):  # untracked SKUs have no ledger to book into
                if disposition is Disposition.RESTOCK:
                    inventory.receive(uow, sku, warehouse, quantity, reference, actor_id=actor_id)
                else:
                    inventory.write_off(
                        uow,
                        sku,
                        warehouse,
                        quantity,
                        reference,
                        "return_damaged",
                        actor_id=actor_id,
                    )
            store.set_disposition(return_id, sku, disposition.value, warehouse)
            restocked += quantity if disposition is Disposition.RESTOCK else 0
            written_off += quantity if disposition is Disposition.WRITE_OFF else 0
            received.append(
                ReceivedLine(
                    sku=sku,
                    quantity=quantity,
                    disposition=disposition.value,
                    warehouse_id=warehouse,
                )
            )
        store.update(
            return_id,
            {"status": ReturnStatus.RECEIVED.value, "received_at": True, "received_by": actor_id},
        )
        uow.record(
            ReturnReceivedEvent(
                return_id=return_id,
                order_id=snap.order.id,
                received=received,
                restocked_units=restocked,
                written_off_units=written_off,
            ),
            SOURCE,
        )
        back = _claimed(uow, snap.order.id, {ReturnStatus.RECEIVED, ReturnStatus.REFUNDED})
        if domain.covers_order(_order_lines(snap), back):
            orders.mark_returned(uow, snap.order, actor_id)
        public = get_in(uow, return_id)
        uow.commit()
    return public


def get_in(uow: UnitOfWork, return_id: str) -> ReturnPublic:
    """The return, inside the caller's unit."""
    row = _store(uow).get(return_id)
    if row is None:
        raise not_found("return", return_id)
    return _publics(uow, [row])[0]


def refund(uow: UnitOfWork, return_id: str, actor_id: str) -> ReturnPublic:
    """Refund a received return, once: a refunded one answers as it is."""
    with uow:
        snap, row = _locked(uow, return_id)
        status = ReturnStatus(row["status"])
        if status is ReturnStatus.REFUNDED:
            return _publics(uow, [row])[0]
        if status is not ReturnStatus.RECEIVED:
            raise ApiError(
                409,
                ReturnError.NOT_RECEIVED,
                "receive the returned units before refunding them",
                details={"status": status.value},
            )
        payment = payments.payment_of(uow, snap.order.id)
        if payment is None:
            raise ApiError(409, ReturnError.NO_PAYMENT, "the order has no payment to refund")
        store = _store(uow)
        this = domain.units(
            (line["sku"], int(line["quantity"])) for line in store.lines_of([return_id])[return_id]
        )
        amount = domain.refund_cents(
            lines=_order_lines(snap),
            goods_paid_cents=snap.order.total_cents - snap.shipping_cents,
            shipping_cents=snap.shipping_cents,
            refunded_before=_claimed(uow, snap.order.id, {ReturnStatus.REFUNDED}),
            this_return=this,
        )
        if amount > 0:
            payment = payments.refund_part(uow, payment, amount, part=f"return:{return_id}")
        store.update(
            return_id,
            {
                "status": ReturnStatus.REFUNDED.value,
                "refund_cents": amount,
                "payment_id": payment.id,
                "refunded_at": True,
                "refunded_by": actor_id,
            },
        )
        uow.record(
            ReturnRefundedEvent(
                return_id=return_id,
                order_id=snap.order.id,
                payment_id=payment.id,
                amount_cents=amount,
                currency=payment.currency,
            ),
            SOURCE,
        )
        open_returns = [
            r for r in store.of_order(snap.order.id) if r["status"] != ReturnStatus.REFUNDED
        ]
        if not open_returns:
            orders.mark_refunded(uow, snap.order, actor_id)
        public = get_in(uow, return_id)
        uow.commit()
    return public
