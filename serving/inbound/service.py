"""Use cases of inbound supplier orders, each in a unit of work (`serving/unit_of_work.py`).

Buyers (staff) create purchase orders for a supplier and a warehouse, submit and close them,
and book receipts: each receipt line is a ledger movement through the inventory service
(StockReceived, BackInStock when a level comes back from zero) in the same transaction as the
order's counts and its PurchaseOrderReceived. Suppliers (the `supplier` role) see their own
submitted orders only — any other order, a draft included, is a 404 to them — acknowledge
them and send ship notices. Admins keep the suppliers and their users.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from serving.errors import ApiError, not_found
from serving.inbound import domain, store
from serving.inbound.domain import (
    STATUS_OF_ERROR,
    SUPPLIER_VISIBLE,
    InboundError,
    InboundErrorCode,
    PoLine,
    PoStatus,
    PurchaseOrder,
)
from serving.inbound.schemas import (
    Acknowledgement,
    LinePublic,
    PurchaseOrderCreate,
    PurchaseOrderPublic,
    PurchaseOrdersPage,
    PurchaseOrderSummary,
    ReceiptCreate,
    ReceiptPublic,
    ReceiptResult,
    ShipNoticeCreate,
    ShipNoticePublic,
    SupplierCreate,
    SupplierPublic,
    SuppliersPage,
    SupplierUpdate,
    SupplierUserCreate,
    SupplierUserPublic,
    Units,
    UnitsOnOrder,
)
from serving.inventory import service as inventory
from serving.pagination import (
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    fingerprint,
    invalid_cursor,
)
from serving.security import Role
from serving.unit_of_work import UnitOfWork
from shoplake.events.inbound import (
    PurchaseOrderAcknowledged,
    PurchaseOrderClosed,
    PurchaseOrderCreated,
    PurchaseOrderLine,
    PurchaseOrderReceived,
    PurchaseOrderSubmitted,
    ShipNoticeSent,
    UnitsOfSku,
)

SOURCE = "/serving/inbound"
STORE = "inbound"
ORDERS_LISTING = "purchase-orders"
SUPPLIERS_LISTING = "suppliers"


def _store(uow: UnitOfWork) -> store.InboundStore:
    return uow.store(STORE, store.SqlInboundStore.on)


@contextlib.contextmanager
def _api_errors() -> Iterator[None]:
    try:
        yield
    except InboundError as exc:
        raise ApiError(STATUS_OF_ERROR[exc.code], exc.code, exc.message, exc.details) from exc


def _now() -> datetime:
    return datetime.now(UTC)


def _today() -> date:
    return _now().date()


# ---------------------------------------------------------------- suppliers (admin)


def _supplier(row: Mapping[str, Any]) -> SupplierPublic:
    return SupplierPublic.model_validate({**row, "id": str(row["id"])})


def create_supplier(uow: UnitOfWork, body: SupplierCreate) -> SupplierPublic:
    with uow:
        row = _store(uow).insert_supplier(body.model_dump())
        if row is None:
            raise ApiError(
                409,
                InboundErrorCode.SUPPLIER_CODE_TAKEN,
                f"a supplier with code '{body.code}' exists",
            )
        uow.commit()
    return _supplier(row)


def get_supplier(uow: UnitOfWork, supplier_id: str) -> SupplierPublic:
    with uow:
        row = _store(uow).get_supplier(supplier_id)
    if row is None:
        raise not_found("supplier", supplier_id)
    return _supplier(row)


def find_supplier(uow: UnitOfWork, code_or_id: str) -> SupplierPublic:
    """The supplier of this id, or else of this code (codes are upper case; any case finds)."""
    try:
        by_id: str | None = str(uuid.UUID(code_or_id))
    except ValueError:
        by_id = None
    with uow:
        ledger = _store(uow)
        row = ledger.get_supplier(by_id) if by_id else None
        if row is None:
            row = ledger.supplier_by_code(code_or_id.strip().upper())
    if row is None:
        raise not_found("supplier", code_or_id)
    return _supplier(row)


def list_suppliers(uow: UnitOfWork, *, limit: int, cursor: str | None) -> SuppliersPage:
    query = fingerprint({})
    after = None
    if cursor:
        try:
            after = decode_cursor(cursor, SUPPLIERS_LISTING, query).get("code")
            if not isinstance(after, str):
                raise InvalidCursor("the cursor carries no supplier code")
        except InvalidCursor as exc:
            raise invalid_cursor(exc) from exc
    with uow:
        rows = _store(uow).list_suppliers(limit=limit + 1, after_code=after)
    items = [_supplier(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(SUPPLIERS_LISTING, query, {"code": items[-1].code})
    return SuppliersPage(items=items, next_cursor=next_cursor)


def update_supplier(uow: UnitOfWork, supplier_id: str, body: SupplierUpdate) -> SupplierPublic:
    changes = body.model_dump(exclude_unset=True)
    with uow:
        ledger = _store(uow)
        row = ledger.update_supplier(supplier_id, changes) if changes else None
        if row is None:
            row = ledger.get_supplier(supplier_id)
        if row is None:
            raise not_found("supplier", supplier_id)
        uow.commit()
    return _supplier(row)


def deactivate_supplier(uow: UnitOfWork, supplier_id: str) -> None:
    """A supplier with history is kept; an inactive one gets no new purchase orders."""
    with uow:
        if _store(uow).update_supplier(supplier_id, {"active": False}) is None:
            raise not_found("supplier", supplier_id)
        uow.commit()


def add_supplier_user(
    conn: Connection, supplier_id: str, body: SupplierUserCreate
) -> SupplierUserPublic:
    """A new account of the supplier role, acting for this supplier (in the caller's
    transaction: the account and its membership exist together or not at all)."""
    ledger = store.SqlInboundStore(conn)
    if ledger.get_supplier(supplier_id) is None:
        raise not_found("supplier", supplier_id)
    register = UserRegister(
        email=body.email, password=body.password, display_name=body.display_name
    )
    user = accounts.register(conn, register, role=Role.SUPPLIER)
    try:
        accounts.get_me(conn, user.id)
    except ApiError as exc:  # registration answered without creating: the address is taken
        raise ApiError(
            409, InboundErrorCode.EMAIL_TAKEN, "an account with this e-mail exists"
        ) from exc
    ledger.add_member(supplier_id, user.id)
    return SupplierUserPublic(
        user_id=user.id, email=user.email, display_name=user.display_name, supplier_id=supplier_id
    )


def supplier_users(conn: Connection, supplier_id: str) -> list[SupplierUserPublic]:
    ledger = store.SqlInboundStore(conn)
    if ledger.get_supplier(supplier_id) is None:
        raise not_found("supplier", supplier_id)
    found = []
    for user_id in ledger.members(supplier_id):
        user = accounts.get_me(conn, user_id)
        found.append(
            SupplierUserPublic(
                user_id=user.id,
                email=user.email,
                display_name=user.display_name,
                supplier_id=supplier_id,
            )
        )
    return found


# ---------------------------------------------------------------- reading orders


def _units(lines: Sequence[Mapping[str, Any]]) -> list[Units]:
    return [Units(sku=line["sku"], quantity=line["quantity"]) for line in lines]


def _overdue(po: PurchaseOrder) -> bool:
    return (
        po.expected_arrival is not None
        and po.expected_arrival < _today()
        and po.status in domain.RECEIVABLE
    )


def _public(uow: UnitOfWork, po: PurchaseOrder) -> PurchaseOrderPublic:
    ledger = _store(uow)
    receipts = [_receipt(row) for row in ledger.receipts_of(po.id)]
    notices = [_notice(row) for row in ledger.ship_notices_of(po.id)]
    assert po.created_at is not None
    return PurchaseOrderPublic(
        id=po.id,
        number=po.reference,
        supplier_id=po.supplier_id,
        warehouse_id=po.warehouse_id,
        currency=po.currency,
        status=po.status,
        expected_arrival=po.expected_arrival,
        overdue=_overdue(po),
        notes=po.notes,
        lines=[
            LinePublic(
                sku=line.sku,
                quantity_ordered=line.quantity_ordered,
                quantity_received=line.quantity_received,
                unit_cost_cents=line.unit_cost_cents,
            )
            for line in po.lines
        ],
        total_cost_cents=po.total_cost_cents,
        units_remaining=po.units_remaining,
        receipts=receipts,
        ship_notices=notices,
        created_at=po.created_at,
        submitted_at=po.submitted_at,
        acknowledged_at=po.acknowledged_at,
        closed_at=po.closed_at,
    )


def _summary(po: PurchaseOrder) -> PurchaseOrderSummary:
    assert po.created_at is not None
    return PurchaseOrderSummary(
        id=po.id,
        number=po.reference,
        supplier_id=po.supplier_id,
        warehouse_id=po.warehouse_id,
        status=po.status,
        expected_arrival=po.expected_arrival,
        overdue=_overdue(po),
        total_cost_cents=po.total_cost_cents,
        units_remaining=po.units_remaining,
        created_at=po.created_at,
    )


def _page(
    uow: UnitOfWork,
    *,
    listing: str,
    supplier_id: str | None,
    statuses: frozenset[PoStatus] | None,
    limit: int,
    cursor: str | None,
    query: Mapping[str, object],
) -> PurchaseOrdersPage:
    digest = fingerprint(query)
    before = None
    if cursor:
        try:
            before = decode_cursor(cursor, listing, digest).get("n")
            if not isinstance(before, int) or isinstance(before, bool):
                raise InvalidCursor("the cursor carries no order number")
        except InvalidCursor as exc:
            raise invalid_cursor(exc) from exc
    with uow:
        found = _store(uow).list_orders(
            supplier_id=supplier_id, statuses=statuses, limit=limit + 1, before_number=before
        )
    items = found[:limit]
    next_cursor = None
    if len(found) > limit:
        next_cursor = encode_cursor(listing, digest, {"n": items[-1].number})
    return PurchaseOrdersPage(items=[_summary(po) for po in items], next_cursor=next_cursor)


def list_orders(
    uow: UnitOfWork,
    *,
    supplier_id: str | None,
    status: PoStatus | None,
    limit: int,
    cursor: str | None,
) -> PurchaseOrdersPage:
    """Every order, newest first, optionally of one supplier or status."""
    return _page(
        uow,
        listing=ORDERS_LISTING,
        supplier_id=supplier_id,
        statuses=frozenset({status}) if status else None,
        limit=limit,
        cursor=cursor,
        query={"supplier_id": supplier_id, "status": status},
    )


def units_on_order(uow: UnitOfWork) -> list[UnitsOnOrder]:
    """What the open orders (drafts included) still bring, per SKU x warehouse: the inbound
    stock of the reorder suggestions."""
    with uow:
        rows = _store(uow).units_on_order()
    return [UnitsOnOrder.model_validate(row) for row in rows]


def get_order(uow: UnitOfWork, po_id: str) -> PurchaseOrderPublic:
    with uow:
        po = _store(uow).get_order(po_id)
        if po is None:
            raise not_found("purchase order", po_id)
        return _public(uow, po)


# ---------------------------------------------------------------- buyers' use cases


def create_order(
    uow: UnitOfWork, body: PurchaseOrderCreate, *, actor_id: str | None
) -> PurchaseOrderPublic:
    """A DRAFT order of catalog products from an active supplier (`actor_id` None: drafted by
    a job, e.g. `shoplake forecast reorder --draft-pos`, not by a person)."""
    supplier_id = str(body.supplier_id)
    with _api_errors():
        units = domain.merge_units([(line.sku, line.quantity) for line in body.lines])
    with uow:
        ledger = _store(uow)
        supplier = ledger.get_supplier(supplier_id)
        if supplier is None:
            raise not_found("supplier", supplier_id)
        if not supplier["active"]:
            raise ApiError(
                409,
                InboundErrorCode.SUPPLIER_INACTIVE,
                f"supplier '{supplier['code']}' is inactive",
            )
        for sku in units:
            inventory.require_product(uow, sku)
        po = ledger.insert_order(
            PurchaseOrder(
                id=str(uuid.uuid4()),
                number=0,  # the database numbers it
                supplier_id=supplier_id,
                warehouse_id=body.warehouse_id,
                currency=body.currency,
                status=PoStatus.DRAFT,
                lines=tuple(
                    PoLine(line.sku, line.quantity, line.unit_cost_cents) for line in body.lines
                ),
                expected_arrival=body.expected_arrival,
                notes=body.notes,
                created_by=actor_id,
            )
        )
        uow.record(
            PurchaseOrderCreated(
                purchase_order_id=po.id,
                supplier_id=po.supplier_id,
                number=po.reference,
                warehouse_id=po.warehouse_id,
                currency=po.currency,
                lines=[
                    PurchaseOrderLine(
                        sku=line.sku,
                        quantity=line.quantity_ordered,
                        unit_cost_cents=line.unit_cost_cents,
                    )
                    for line in po.lines
                ],
                total_cost_cents=po.total_cost_cents,
                expected_arrival=po.expected_arrival,
            ),
            SOURCE,
        )
        public = _public(uow, po)
        uow.commit()
    return public


def _locked(uow: UnitOfWork, po_id: str) -> PurchaseOrder:
    po = _store(uow).get_order(po_id, lock=True)
    if po is None:
        raise not_found("purchase order", po_id)
    return po


def submit(uow: UnitOfWork, po_id: str) -> PurchaseOrderPublic:
    """Send the order to the supplier (a second submit is a 409: it is no longer a draft)."""
    with uow:
        with _api_errors():
            po = domain.submit(_locked(uow, po_id), _now())
        _store(uow).save_order(po)
        uow.record(
            PurchaseOrderSubmitted(
                purchase_order_id=po.id,
                supplier_id=po.supplier_id,
                expected_arrival=po.expected_arrival,
            ),
            SOURCE,
        )
        public = _public(uow, po)
        uow.commit()
    return public


def _units_of(units: Mapping[str, int]) -> list[UnitsOfSku]:
    return [UnitsOfSku(sku=sku, quantity=quantity) for sku, quantity in sorted(units.items())]


def _same_units(stored: Sequence[Mapping[str, Any]], units: Mapping[str, int]) -> bool:
    return {line["sku"]: line["quantity"] for line in stored} == dict(units)


def receive(
    uow: UnitOfWork, po_id: str, body: ReceiptCreate, *, actor_id: str
) -> tuple[ReceiptResult, bool]:
    """Book a delivery: units into stock (ledger movements) and onto the order's lines, in one
    transaction. The same delivery note again answers the first booking (True: booked now)."""
    with _api_errors():
        units = domain.merge_units([(line.sku, line.quantity) for line in body.lines])
    with uow:
        ledger = _store(uow)
        po = _locked(uow, po_id)  # serialises receipts of one order
        warehouse_id = body.warehouse_id or po.warehouse_id
        existing = ledger.get_receipt(po.id, body.reference)
        if existing is not None:
            if existing["warehouse_id"] != warehouse_id or not _same_units(
                existing["lines"], units
            ):
                raise ApiError(
                    409,
                    InboundErrorCode.REFERENCE_REUSED,
                    f"delivery note '{body.reference}' was booked with other lines",
                )
            result = ReceiptResult(
                replayed=True,
                receipt=_receipt(existing),
                purchase_order=_public(uow, po),
            )
            return result, False
        with _api_errors():
            after = domain.receive(po, units)
        movement_reference = f"{po.reference}/{body.reference}"
        for sku, quantity in sorted(units.items()):
            inventory.receive(
                uow, sku, warehouse_id, quantity, movement_reference, actor_id=actor_id
            )
        ledger.save_order(after)
        row = ledger.insert_receipt(
            {
                "purchase_order_id": po.id,
                "reference": body.reference,
                "warehouse_id": warehouse_id,
                "lines": [{"sku": sku, "quantity": q} for sku, q in sorted(units.items())],
                "received_by": actor_id,
            }
        )
        uow.record(
            PurchaseOrderReceived(
                purchase_order_id=po.id,
                supplier_id=po.supplier_id,
                receipt_id=str(row["id"]),
                reference=body.reference,
                warehouse_id=warehouse_id,
                received_lines=[
                    UnitsOfSku(sku=sku, quantity=q) for sku, q in sorted(units.items())
                ],
                status=after.status.value,
            ),
            SOURCE,
        )
        result = ReceiptResult(
            replayed=False, receipt=_receipt(row), purchase_order=_public(uow, after)
        )
        uow.commit()
    return result, True


def _receipt(row: Mapping[str, Any]) -> ReceiptPublic:
    return ReceiptPublic(
        id=str(row["id"]),
        reference=row["reference"],
        warehouse_id=row["warehouse_id"],
        lines=_units(row["lines"]),
        received_at=row["received_at"],
    )


def close(uow: UnitOfWork, po_id: str) -> PurchaseOrderPublic:
    """No more units will be received; what is missing is recorded as short."""
    with uow:
        with _api_errors():
            po, short = domain.close(_locked(uow, po_id), _now())
        _store(uow).save_order(po)
        uow.record(
            PurchaseOrderClosed(
                purchase_order_id=po.id, supplier_id=po.supplier_id, units_short=short
            ),
            SOURCE,
        )
        public = _public(uow, po)
        uow.commit()
    return public


# ---------------------------------------------------------------- suppliers' use cases


def _supplier_of(uow: UnitOfWork, user_id: str) -> str | None:
    return _store(uow).supplier_of(user_id)


def _own(uow: UnitOfWork, user_id: str, po_id: str, *, lock: bool = False) -> PurchaseOrder:
    """The order if it is this supplier user's to see; any other is a 404 (never a 403: its
    existence is not theirs to know)."""
    supplier_id = _supplier_of(uow, user_id)
    po = _store(uow).get_order(po_id, lock=lock)
    if (
        po is None
        or supplier_id is None
        or po.supplier_id != supplier_id
        or po.status not in SUPPLIER_VISIBLE
    ):
        raise not_found("purchase order", po_id)
    return po


def supplier_orders(
    uow: UnitOfWork, user_id: str, *, status: PoStatus | None, limit: int, cursor: str | None
) -> PurchaseOrdersPage:
    with uow:
        supplier_id = _supplier_of(uow, user_id)
    if supplier_id is None:  # a supplier user nobody has linked to a supplier yet
        return PurchaseOrdersPage(items=[], next_cursor=None)
    statuses = frozenset({status}) & SUPPLIER_VISIBLE if status else SUPPLIER_VISIBLE
    return _page(
        uow,
        listing=f"supplier-{ORDERS_LISTING}",
        supplier_id=supplier_id,
        statuses=statuses,
        limit=limit,
        cursor=cursor,
        query={"supplier_id": supplier_id, "status": status},
    )


def supplier_order(uow: UnitOfWork, user_id: str, po_id: str) -> PurchaseOrderPublic:
    with uow:
        return _public(uow, _own(uow, user_id, po_id))


def acknowledge(
    uow: UnitOfWork, user_id: str, po_id: str, body: Acknowledgement
) -> PurchaseOrderPublic:
    """The supplier accepts the order (again: harmless), optionally with its arrival date."""
    with uow:
        with _api_errors():
            po, changed = domain.acknowledge(
                _own(uow, user_id, po_id, lock=True), body.expected_arrival, _now()
            )
        if changed:
            _store(uow).save_order(po)
            uow.record(
                PurchaseOrderAcknowledged(
                    purchase_order_id=po.id,
                    supplier_id=po.supplier_id,
                    expected_arrival=po.expected_arrival,
                ),
                SOURCE,
            )
        public = _public(uow, po)
        uow.commit()
    return public


def send_ship_notice(
    uow: UnitOfWork, user_id: str, po_id: str, body: ShipNoticeCreate
) -> tuple[ShipNoticePublic, bool]:
    """Announce a shipment of the order's units; the order expects them on that date. The same
    shipment number again answers the first notice (True: recorded now)."""
    with _api_errors():
        units = domain.merge_units([(line.sku, line.quantity) for line in body.lines])
    with uow:
        ledger = _store(uow)
        po = _own(uow, user_id, po_id, lock=True)
        existing = ledger.get_ship_notice(po.id, body.reference)
        if existing is not None:
            if not _same_units(existing["lines"], units):
                raise ApiError(
                    409,
                    InboundErrorCode.REFERENCE_REUSED,
                    f"ship notice '{body.reference}' was sent with other lines",
                )
            return _notice(existing), False
        with _api_errors():
            domain.check_units(po, units, "announced")
        row = ledger.insert_ship_notice(
            {
                "purchase_order_id": po.id,
                "reference": body.reference,
                "expected_arrival": body.expected_arrival,
                "carrier": body.carrier,
                "tracking_number": body.tracking_number,
                "lines": [{"sku": sku, "quantity": q} for sku, q in sorted(units.items())],
                "created_by": user_id,
            }
        )
        ledger.save_order(domain.announce(po, body.expected_arrival))
        uow.record(
            ShipNoticeSent(
                purchase_order_id=po.id,
                supplier_id=po.supplier_id,
                ship_notice_id=str(row["id"]),
                reference=body.reference,
                expected_arrival=body.expected_arrival,
                shipped_lines=_units_of(units),
                carrier=body.carrier,
                tracking_number=body.tracking_number,
            ),
            SOURCE,
        )
        notice = _notice(row)
        uow.commit()
    return notice, True


def _notice(row: Mapping[str, Any]) -> ShipNoticePublic:
    return ShipNoticePublic(
        id=str(row["id"]),
        reference=row["reference"],
        expected_arrival=row["expected_arrival"],
        carrier=row["carrier"],
        tracking_number=row["tracking_number"],
        lines=_units(row["lines"]),
        created_at=row["created_at"],
    )
