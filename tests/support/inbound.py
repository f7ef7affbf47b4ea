"""Inbound's store in memory, and a fake unit of work with it and the stock ledger's fakes."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from serving.inbound.domain import OPEN, PoStatus, PurchaseOrder
from serving.payments.gateway import PaymentGateway
from tests.support.fakes import FakeGateway
from tests.support.unit_of_work import (
    Clock,
    FakeCatalogView,
    FakeInventoryStore,
    FakeUnitOfWork,
)

Row = dict[str, Any]


class FakeInboundStore:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.suppliers: dict[str, Row] = {}
        self.members: dict[str, str] = {}  # user → supplier
        self.orders: dict[str, PurchaseOrder] = {}
        self.receipts: list[Row] = []
        self.notices: list[Row] = []
        self.numbers = 0

    # -- suppliers
    def insert_supplier(self, fields: Mapping[str, Any]) -> Row | None:
        if any(s["code"] == fields["code"] for s in self.suppliers.values()):
            return None
        now = self.clock()
        row = {
            "id": str(uuid.uuid4()),
            "phone": None,
            "active": True,
            **fields,
            "created_at": now,
            "updated_at": now,
        }
        self.suppliers[row["id"]] = row
        return dict(row)

    def get_supplier(self, supplier_id: str) -> Row | None:
        row = self.suppliers.get(supplier_id)
        return dict(row) if row else None

    def supplier_by_code(self, code: str) -> Row | None:
        return next((dict(s) for s in self.suppliers.values() if s["code"] == code), None)

    def list_suppliers(self, *, limit: int, after_code: str | None) -> Sequence[Row]:
        rows = sorted(self.suppliers.values(), key=lambda s: s["code"])
        return [dict(r) for r in rows if after_code is None or r["code"] > after_code][:limit]

    def update_supplier(self, supplier_id: str, changes: Mapping[str, Any]) -> Row | None:
        if supplier_id not in self.suppliers:
            return None
        self.suppliers[supplier_id].update(changes, updated_at=self.clock())
        return dict(self.suppliers[supplier_id])

    def supplier_of(self, user_id: str) -> str | None:
        return self.members.get(user_id)

    # -- orders
    def insert_order(self, po: PurchaseOrder) -> PurchaseOrder:
        self.numbers += 1
        stored = replace(po, number=self.numbers, created_at=self.clock())
        self.orders[po.id] = stored
        return stored

    def get_order(self, po_id: str, *, lock: bool = False) -> PurchaseOrder | None:
        return self.orders.get(po_id)

    def list_orders(
        self,
        *,
        supplier_id: str | None,
        statuses: frozenset[PoStatus] | None,
        limit: int,
        before_number: int | None,
    ) -> list[PurchaseOrder]:
        found = [
            po
            for po in self.orders.values()
            if (supplier_id is None or po.supplier_id == supplier_id)
            and (statuses is None or po.status in statuses)
            and (before_number is None or po.number < before_number)
        ]
        return sorted(found, key=lambda po: -po.number)[:limit]

    def save_order(self, po: PurchaseOrder) -> None:
        self.orders[po.id] = po

    def units_on_order(self) -> Sequence[Row]:
        units: dict[tuple[str, str], int] = {}
        for po in self.orders.values():
            if po.status in OPEN:
                for line in po.lines:
                    key = (line.sku, po.warehouse_id)
                    units[key] = units.get(key, 0) + line.remaining
        return [
            {"sku": sku, "warehouse_id": warehouse_id, "units": n}
            for (sku, warehouse_id), n in sorted(units.items())
            if n > 0
        ]

    def receipts_of(self, po_id: str) -> Sequence[Row]:
        return [copy.deepcopy(r) for r in self.receipts if r["purchase_order_id"] == po_id]

    def get_receipt(self, po_id: str, reference: str) -> Row | None:
        return next(
            (
                dict(r)
                for r in self.receipts
                if (r["purchase_order_id"], r["reference"]) == (po_id, reference)
            ),
            None,
        )

    def insert_receipt(self, fields: Mapping[str, Any]) -> Row:
        row = {"id": str(uuid.uuid4()), **copy.deepcopy(dict(fields)), "received_at": self.clock()}
        self.receipts.append(row)
        return dict(row)

    def ship_notices_of(self, po_id: str) -> Sequence[Row]:
        return [copy.deepcopy(n) for n in self.notices if n["purchase_order_id"] == po_id]

    def get_ship_notice(self, po_id: str, reference: str) -> Row | None:
        return next(
            (
                dict(n)
                for n in self.notices
                if (n["purchase_order_id"], n["reference"]) == (po_id, reference)
            ),
            None,
        )

    def insert_ship_notice(self, fields: Mapping[str, Any]) -> Row:
        row = {"id": str(uuid.uuid4()), **copy.deepcopy(dict(fields)), "created_at": self.clock()}
        self.notices.append(row)
        return dict(row)


@dataclass
class Inbound:
    uow: FakeUnitOfWork
    clock: Clock
    store: FakeInboundStore
    inventory: FakeInventoryStore
    catalog: FakeCatalogView


def inbound_unit(gateway: PaymentGateway | None = None) -> Inbound:
    clock = Clock()
    store = FakeInboundStore(clock)
    inventory = FakeInventoryStore(clock)
    catalog = FakeCatalogView()
    uow = FakeUnitOfWork(
        gateway=gateway or FakeGateway(),
        stores={
            "inbound": store,
            "inventory": inventory,
            "inventory.catalog": catalog,
            "inventory.gate": None,
        },
        non_transactional=("inventory.gate",),
        shared=(clock,),
    )
    return Inbound(uow, clock, store, inventory, catalog)
