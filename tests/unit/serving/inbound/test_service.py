"""Inbound's use cases on the in-memory unit of work: a purchase order from draft to closed,
receipts that move the stock ledger once, and suppliers that see only their own orders."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from serving.errors import ApiError
from serving.inbound import service
from serving.inbound.domain import PoStatus
from serving.inbound.schemas import (
    Acknowledgement,
    LineCreate,
    PurchaseOrderCreate,
    ReceiptCreate,
    ShipNoticeCreate,
    SupplierCreate,
    Units,
)
from shoplake.events.inbound import PurchaseOrderClosed
from tests.support.inbound import Inbound, inbound_unit

BUYER = str(uuid.uuid4())


@pytest.fixture
def world() -> Inbound:
    found = inbound_unit()
    for sku in ("KET-1", "MUG-1"):
        found.catalog.statuses[sku] = "active"
    return found


def _supplier(world: Inbound, code: str, user_id: str | None = None) -> str:
    supplier = service.create_supplier(
        world.uow,
        SupplierCreate(code=code, name=f"{code} Ltd", contact_email=f"{code.lower()}@example.com"),
    )
    if user_id is not None:
        world.store.members[user_id] = supplier.id
    return supplier.id


def _order(world: Inbound, supplier_id: str) -> str:
    po = service.create_order(
        world.uow,
        PurchaseOrderCreate(
            supplier_id=uuid.UUID(supplier_id),
            warehouse_id="WH-1",
            expected_arrival=date(2026, 11, 20),
            lines=[
                LineCreate(sku="KET-1", quantity=10, unit_cost_cents=1200),
                LineCreate(sku="MUG-1", quantity=4, unit_cost_cents=300),
            ],
        ),
        actor_id=BUYER,
    )
    assert po.status is PoStatus.DRAFT and po.total_cost_cents == 13_200
    return po.id


def _receipt(reference: str, **units: int) -> ReceiptCreate:
    return ReceiptCreate(
        reference=reference,
        lines=[Units(sku=sku.replace("_", "-"), quantity=q) for sku, q in units.items()],
    )


def test_an_order_from_draft_to_closed_moves_the_ledger_once_per_delivery(world: Inbound) -> None:
    supplier_user = str(uuid.uuid4())
    po_id = _order(world, _supplier(world, "ACME", supplier_user))
    service.submit(world.uow, po_id)
    acked = service.acknowledge(
        world.uow, supplier_user, po_id, Acknowledgement(expected_arrival=date(2026, 11, 25))
    )
    assert acked.status is PoStatus.ACKNOWLEDGED and acked.expected_arrival == date(2026, 11, 25)
    notice, created = service.send_ship_notice(
        world.uow,
        supplier_user,
        po_id,
        ShipNoticeCreate(
            reference="ASN-7",
            expected_arrival=date(2026, 11, 24),
            lines=[Units(sku="KET-1", quantity=6)],
        ),
    )
    assert created and notice.lines == [Units(sku="KET-1", quantity=6)]
    assert service.get_order(world.uow, po_id).expected_arrival == date(2026, 11, 24)

    first, booked = service.receive(world.uow, po_id, _receipt("DN-1", KET_1=6), actor_id=BUYER)
    assert booked and first.purchase_order.status is PoStatus.PARTIALLY_RECEIVED
    assert world.inventory.level("KET-1", "WH-1") == (6, 0)
    # The same delivery note again: the first booking answers, the ledger does not move.
    again, booked = service.receive(world.uow, po_id, _receipt("DN-1", KET_1=6), actor_id=BUYER)
    assert not booked and again.replayed and again.receipt.id == first.receipt.id
    assert world.inventory.level("KET-1", "WH-1") == (6, 0)
    with pytest.raises(ApiError) as reused:
        service.receive(world.uow, po_id, _receipt("DN-1", KET_1=5), actor_id=BUYER)
    assert reused.value.code == "REFERENCE_REUSED"
    with pytest.raises(ApiError) as over:
        service.receive(world.uow, po_id, _receipt("DN-2", KET_1=5), actor_id=BUYER)
    assert over.value.code == "OVER_RECEIPT" and world.inventory.level("KET-1", "WH-1") == (6, 0)

    last, _ = service.receive(world.uow, po_id, _receipt("DN-2", KET_1=4, MUG_1=3), actor_id=BUYER)
    assert last.purchase_order.units_remaining == 1
    closed = service.close(world.uow, po_id)
    assert closed.status is PoStatus.CLOSED

    movements = [
        (m["sku"], m["on_hand_delta"], m["reference"]) for m in world.inventory.movement_rows
    ]
    assert movements == [
        ("KET-1", 6, "PO-000001/DN-1"),
        ("KET-1", 4, "PO-000001/DN-2"),
        ("MUG-1", 3, "PO-000001/DN-2"),
    ]
    assert world.uow.event_names(po_id) == [
        "PurchaseOrderCreated",
        "PurchaseOrderSubmitted",
        "PurchaseOrderAcknowledged",
        "ShipNoticeSent",
        "PurchaseOrderReceived",
        "PurchaseOrderReceived",
        "PurchaseOrderClosed",
    ]
    closed_event = world.uow.events[-1][0]
    assert isinstance(closed_event, PurchaseOrderClosed) and closed_event.units_short == 1
    stock_events = world.uow.event_names("KET-1")
    assert stock_events.count("StockReceived") == 2 and "BackInStock" in stock_events


def test_a_supplier_sees_its_submitted_orders_only(world: Inbound) -> None:
    ours, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    po_id = _order(world, _supplier(world, "OURS", ours))
    other_id = _order(world, _supplier(world, "THEIRS", theirs))
    nobody = str(uuid.uuid4())  # a supplier user no supplier has yet

    with pytest.raises(ApiError) as draft:
        service.supplier_order(world.uow, ours, po_id)
    assert draft.value.status == 404  # drafts are the buyer's
    service.submit(world.uow, po_id)
    service.submit(world.uow, other_id)

    assert service.supplier_order(world.uow, ours, po_id).id == po_id
    for user, po in ((theirs, po_id), (ours, other_id), (nobody, po_id)):
        with pytest.raises(ApiError) as hidden:
            service.supplier_order(world.uow, user, po)
        assert hidden.value.status == 404
        with pytest.raises(ApiError):
            service.acknowledge(world.uow, user, po, Acknowledgement())
    assert [
        p.id
        for p in service.supplier_orders(world.uow, ours, status=None, limit=10, cursor=None).items
    ] == [po_id]
    assert (
        service.supplier_orders(world.uow, nobody, status=None, limit=10, cursor=None).items == []
    )


def test_an_order_needs_catalog_products_an_active_supplier_and_one_line_per_sku(
    world: Inbound,
) -> None:
    supplier_id = _supplier(world, "ACME")
    body = {"supplier_id": uuid.UUID(supplier_id), "warehouse_id": "WH-1"}
    with pytest.raises(ApiError) as unknown:
        service.create_order(
            world.uow,
            PurchaseOrderCreate(
                **body, lines=[LineCreate(sku="NOPE-1", quantity=1, unit_cost_cents=1)]
            ),
            actor_id=BUYER,
        )
    assert unknown.value.status == 404
    with pytest.raises(ApiError) as twice:
        service.create_order(
            world.uow,
            PurchaseOrderCreate(
                **body, lines=[LineCreate(sku="KET-1", quantity=1, unit_cost_cents=1)] * 2
            ),
            actor_id=BUYER,
        )
    assert twice.value.code == "DUPLICATE_SKU"
    service.deactivate_supplier(world.uow, supplier_id)
    with pytest.raises(ApiError) as inactive:
        _order(world, supplier_id)
    assert inactive.value.code == "SUPPLIER_INACTIVE"
    assert world.store.orders == {} and world.uow.events == []


def test_suppliers_page_by_code_and_codes_are_unique(world: Inbound) -> None:
    for code in ("CCC", "AAA", "BBB"):
        _supplier(world, code)
    with pytest.raises(ApiError) as taken:
        _supplier(world, "AAA")
    assert taken.value.code == "SUPPLIER_CODE_TAKEN"
    first = service.list_suppliers(world.uow, limit=2, cursor=None)
    rest = service.list_suppliers(world.uow, limit=2, cursor=first.next_cursor)
    assert [s.code for s in first.items + rest.items] == ["AAA", "BBB", "CCC"]
    assert rest.next_cursor is None


def test_a_supplier_is_found_by_its_id_or_its_code_in_any_case(world: Inbound) -> None:
    supplier_id = _supplier(world, "ACME")
    assert service.find_supplier(world.uow, supplier_id).code == "ACME"
    assert service.find_supplier(world.uow, "acme").id == supplier_id
    for unknown in ("NOPE", str(uuid.uuid4())):
        with pytest.raises(ApiError) as caught:
            service.find_supplier(world.uow, unknown)
        assert caught.value.status == 404


def test_units_on_order_are_what_open_orders_still_bring(world: Inbound) -> None:
    supplier_id = _supplier(world, "ACME")
    draft = _order(world, supplier_id)  # KET-1 x10, MUG-1 x4 into WH-1
    received = _order(world, supplier_id)
    service.submit(world.uow, received)
    service.receive(world.uow, received, _receipt("DN-1", KET_1=6), actor_id=BUYER)
    closed = _order(world, supplier_id)
    service.close(world.uow, closed)

    on_order = {(u.sku, u.warehouse_id): u.units for u in service.units_on_order(world.uow)}
    assert on_order == {("KET-1", "WH-1"): 10 + 4, ("MUG-1", "WH-1"): 4 + 4}
    service.close(world.uow, draft)
    service.receive(world.uow, received, _receipt("DN-2", KET_1=4, MUG_1=4), actor_id=BUYER)
    assert service.units_on_order(world.uow) == []  # received in full, or closed
