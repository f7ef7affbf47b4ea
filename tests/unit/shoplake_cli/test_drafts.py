"""Reorder suggestions → draft purchase orders, on the in-memory unit of work: one draft per
warehouse, costs from the catalog, SKUs on order or gone skipped, and a rerun drafts nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from serving.catalog.schemas import ProductPublic
from serving.inbound import service
from serving.inbound.domain import PoStatus
from serving.inbound.schemas import SupplierCreate, SupplierPublic
from shoplake.events.inbound import PurchaseOrderCreated
from shoplake_cli.drafts import (
    Draft,
    DraftLine,
    InboundDrafter,
    notes_for,
    on_order_frame,
    plan_drafts,
    unit_cost_of,
)
from tests.support.inbound import Inbound, inbound_unit
from tests.support.unit_of_work import make_product

GENERATED = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)


def _suggestions(*rows: tuple[str, str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": [sku for sku, _, _ in rows],
            "warehouse_id": [wh for _, wh, _ in rows],
            "suggested_units": pd.Series([units for _, _, units in rows], dtype="int64"),
            "lead_time_days": 7,
            "model_version": "4",
            "generated_at": GENERATED,
        }
    )


def _product(sku: str, cost: object = None, status: str = "active") -> ProductPublic:
    attributes = {} if cost is None else {"unit_cost_cents": cost}
    return make_product(sku).model_copy(update={"attributes": attributes, "status": status})


def test_the_plan_groups_what_needs_reordering_per_warehouse() -> None:
    plan = plan_drafts(
        _suggestions(("B", "WH-2", 4), ("A", "WH-1", 10), ("B", "WH-1", 3), ("C", "WH-1", 0)),
        on_order=set(),
        products={"A": _product("A", 250), "B": _product("B")},
    )
    assert plan.drafts == (
        Draft("WH-1", "EUR", (DraftLine("A", 10, 250, True), DraftLine("B", 3, 0, False))),
        Draft("WH-2", "EUR", (DraftLine("B", 4, 0, False),)),
    )
    assert plan.on_order == () and plan.not_in_catalog == () and plan.discontinued == ()


def test_the_plan_skips_what_is_on_order_gone_or_discontinued() -> None:
    plan = plan_drafts(
        _suggestions(("A", "WH-1", 10), ("A", "WH-2", 5), ("GONE", "WH-1", 2), ("OLD", "WH-1", 1)),
        on_order={("A", "WH-1")},
        products={"A": _product("A", 100), "OLD": _product("OLD", status="discontinued")},
    )
    assert plan.drafts == (Draft("WH-2", "EUR", (DraftLine("A", 5, 100, True),)),)
    assert plan.on_order == (("A", "WH-1"),)
    assert plan.not_in_catalog == ("GONE",) and plan.discontinued == ("OLD",)


def test_a_warehouse_of_many_skus_gets_several_drafts_of_bounded_size() -> None:
    rows = [(f"S{i:02d}", "WH-1", 1) for i in range(5)]
    plan = plan_drafts(
        _suggestions(*rows), on_order=(), products={s: _product(s) for s, _, _ in rows}, max_lines=2
    )
    assert [len(d.lines) for d in plan.drafts] == [2, 2, 1]
    assert [line.sku for d in plan.drafts for line in d.lines] == [s for s, _, _ in rows]


@pytest.mark.parametrize(
    ("cost", "expected"),
    [(1234, 1234), (0, 0), (None, None), ("12", None), (-1, None), (True, None)],
)
def test_only_a_whole_non_negative_number_of_cents_is_a_unit_cost(
    cost: object, expected: int | None
) -> None:
    assert unit_cost_of(_product("A", cost)) == expected


def test_the_notes_name_the_model_version_and_the_lines_without_a_cost() -> None:
    costed = Draft("WH-1", "EUR", (DraftLine("A", 1, 100, True),))
    assert "model version 7" in notes_for(costed, "7", GENERATED)
    assert "2026-12-01 06:30 UTC" in notes_for(costed, "7", GENERATED)
    assert "0 where" not in notes_for(costed, "7", GENERATED)
    uncosted = Draft("WH-1", "EUR", tuple(DraftLine(f"S{i}", 1, 0, False) for i in range(25)))
    notes = notes_for(uncosted, "7", None)
    assert "0 where the catalog has none" in notes and "S19" in notes and "S20" not in notes
    assert notes.endswith("and 5 more.") and len(notes) <= 2000


def test_units_on_order_become_the_inbound_frame_of_the_suggestions() -> None:
    world = inbound_unit()
    assert list(on_order_frame(service.units_on_order(world.uow)).columns) == [
        "sku",
        "warehouse_id",
        "units",
    ]


# ---------------------------------------------------------------- the drafter on the fake unit


@pytest.fixture
def world() -> Inbound:
    found = inbound_unit()
    for sku in ("KET-1", "MUG-1", "PAN-1"):
        found.catalog.statuses[sku] = "active"
    return found


def _supplier(world: Inbound) -> SupplierPublic:
    return service.create_supplier(
        world.uow, SupplierCreate(code="ACME", name="Acme Ltd", contact_email="buy@example.com")
    )


def _drafter(world: Inbound, said: list[str]) -> InboundDrafter:
    catalog = {
        "KET-1": _product("KET-1", 1200),
        "MUG-1": _product("MUG-1"),
        "PAN-1": _product("PAN-1"),
    }
    return InboundDrafter(
        lambda: world.uow,
        _supplier(world),
        lambda skus: {sku: catalog[sku] for sku in skus if sku in catalog},
        today=lambda: date(2026, 12, 1),
        say=said.append,
    )


def test_the_drafter_writes_one_draft_per_warehouse_and_a_rerun_writes_none(
    world: Inbound,
) -> None:
    said: list[str] = []
    drafter = _drafter(world, said)
    plan = _suggestions(
        ("KET-1", "WH-1", 12), ("MUG-1", "WH-1", 5), ("PAN-1", "WH-2", 3), ("GONE-1", "WH-1", 9)
    )
    made = drafter(plan)

    orders = [world.store.orders[po_id] for po_id in made]
    assert [(po.warehouse_id, po.status) for po in orders] == [
        ("WH-1", PoStatus.DRAFT),
        ("WH-2", PoStatus.DRAFT),
    ]
    assert [(x.sku, x.quantity_ordered, x.unit_cost_cents) for x in orders[0].lines] == [
        ("KET-1", 12, 1200),
        ("MUG-1", 5, 0),
    ]
    assert orders[0].expected_arrival == date(2026, 12, 8)  # today + the lead time
    assert "model version 4" in orders[0].notes and "MUG-1" in orders[0].notes
    assert orders[0].created_by is None  # drafted by the job, not by a person
    created = [e for e, _ in world.uow.events if isinstance(e, PurchaseOrderCreated)]
    assert [e.purchase_order_id for e in created] == made
    assert any("no longer in the catalog: GONE-1" in line for line in said)

    assert drafter(plan) == []  # the same suggestions again: everything is on order
    assert len(world.store.orders) == 2
    assert any("3 SKU x warehouse already on an open purchase order" in s for s in said)


def test_a_received_or_closed_order_no_longer_holds_its_skus_back(world: Inbound) -> None:
    said: list[str] = []
    drafter = _drafter(world, said)
    (first,) = drafter(_suggestions(("KET-1", "WH-1", 4)))
    service.close(world.uow, first)
    assert service.units_on_order(world.uow) == []
    assert len(drafter(_suggestions(("KET-1", "WH-1", 4)))) == 1


def test_nothing_to_reorder_drafts_nothing(world: Inbound) -> None:
    said: list[str] = []
    assert _drafter(world, said)(_suggestions(("KET-1", "WH-1", 0))) == []
    assert world.store.orders == {} and said == ["nothing to draft: no SKU needs reordering"]
