"""Reorder suggestions → draft purchase orders: the models' suggestions joined to serving's
inbound orders.

`models` may not import serving, so `models.commands.reorder` only knows the two seams of
`models.forecasting.reorder` by their shape: `UnitsOnOrder` (what the open orders still bring,
counted as inbound stock) and `DraftPurchaseOrders` (turn the suggestions into drafts). Both
are made here, at the composition root, from inbound's service; every draft is made by
`service.create_order`, so its PurchaseOrderCreated goes through the outbox like any other.

The rules (ARCHITECTURE.md, "Inbound supplier orders"):
- one DRAFT per warehouse (and currency; at most `MAX_LINES` lines each) of the SKUs whose
  `suggested_units` > 0, from the one supplier named on the command line;
- a SKU x warehouse that an open order (draft included) still brings units of is skipped: the
  buyer raises that order instead, and a rerun of the same suggestions drafts nothing twice;
- SKUs the catalog no longer has, or has discontinued, are skipped and named;
- the unit cost is the product's `attributes.unit_cost_cents` when it is a whole number of
  cents, else 0, and the order's notes say which lines have no cost yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from serving.catalog.schemas import ProductPublic
from serving.inbound import service as inbound
from serving.inbound.schemas import (
    MAX_LINES,
    LineCreate,
    PurchaseOrderCreate,
    SupplierPublic,
    UnitsOnOrder,
)
from serving.unit_of_work import UnitOfWork
from shoplake.events.base import MAX_CENTS

COST_ATTRIBUTE = "unit_cost_cents"
# The notes name this many uncosted SKUs, then count the rest (notes hold 2000 characters).
NOTES_SKUS = 20


@dataclass(frozen=True)
class DraftLine:
    sku: str
    units: int
    unit_cost_cents: int
    costed: bool  # the cost came from the catalog (else 0, to be set before submitting)


@dataclass(frozen=True)
class Draft:
    warehouse_id: str
    currency: str
    lines: tuple[DraftLine, ...]


@dataclass(frozen=True)
class DraftPlan:
    drafts: tuple[Draft, ...]
    on_order: tuple[tuple[str, str], ...]  # (sku, warehouse) an open order already brings
    not_in_catalog: tuple[str, ...]
    discontinued: tuple[str, ...]


def unit_cost_of(product: ProductPublic) -> int | None:
    """The product's `attributes.unit_cost_cents`, when it is a valid amount of cents."""
    cost: object = product.attributes.get(COST_ATTRIBUTE)
    if isinstance(cost, bool) or not isinstance(cost, int) or not 0 <= cost <= MAX_CENTS:
        return None
    return cost


def plan_drafts(
    suggestions: pd.DataFrame,
    *,
    on_order: Collection[tuple[str, str]],
    products: Mapping[str, ProductPublic],
    max_lines: int = MAX_LINES,
) -> DraftPlan:
    """The drafts the suggestions call for: pure, so the rules are tested without a database."""
    due = suggestions[suggestions.suggested_units > 0].sort_values(["warehouse_id", "sku"])
    skipped: list[tuple[str, str]] = []
    unknown: set[str] = set()
    discontinued: set[str] = set()
    groups: dict[tuple[str, str], list[DraftLine]] = {}
    for sku, warehouse_id, units in zip(
        due.sku.astype(str), due.warehouse_id.astype(str), due.suggested_units, strict=True
    ):
        product = products.get(sku)
        if (sku, warehouse_id) in on_order:
            skipped.append((sku, warehouse_id))
        elif product is None:
            unknown.add(sku)
        elif product.status == "discontinued":
            discontinued.add(sku)
        else:
            cost = unit_cost_of(product)
            groups.setdefault((warehouse_id, product.currency), []).append(
                DraftLine(sku, int(units), cost or 0, cost is not None)
            )
    drafts = tuple(
        Draft(warehouse_id, currency, tuple(lines[start : start + max_lines]))
        for (warehouse_id, currency), lines in sorted(groups.items())
        for start in range(0, len(lines), max_lines)
    )
    return DraftPlan(drafts, tuple(skipped), tuple(sorted(unknown)), tuple(sorted(discontinued)))


def notes_for(draft: Draft, model_version: str | None, generated_at: datetime | None) -> str:
    """What a buyer reads on the draft: where it came from and what its costs are worth."""
    when = f" made at {generated_at:%Y-%m-%d %H:%M} UTC" if generated_at is not None else ""
    notes = (
        "Drafted by `shoplake forecast reorder --draft-pos` from the reorder suggestions"
        f"{when} by demand-forecast model version {model_version or 'unknown'}. "
        f"Unit costs from each product's attributes.{COST_ATTRIBUTE}"
    )
    uncosted = [line.sku for line in draft.lines if not line.costed]
    if not uncosted:
        return notes + "."
    named = ", ".join(uncosted[:NOTES_SKUS])
    more = f" and {len(uncosted) - NOTES_SKUS} more" if len(uncosted) > NOTES_SKUS else ""
    return notes + f"; 0 where the catalog has none, to set before submitting: {named}{more}."


def on_order_frame(units: Sequence[UnitsOnOrder]) -> pd.DataFrame:
    """The open orders' units as the suggestions read inbound stock."""
    return pd.DataFrame(
        {
            "sku": [u.sku for u in units],
            "warehouse_id": [u.warehouse_id for u in units],
            "units": pd.Series([u.units for u in units], dtype="int64"),
        }
    )


def units_on_order(unit: Callable[[], UnitOfWork]) -> Callable[[], pd.DataFrame]:
    """The `UnitsOnOrder` seam over inbound's service."""
    return lambda: on_order_frame(inbound.units_on_order(unit()))


def _first(frame: pd.DataFrame, column: str) -> Any:
    values = frame[column].dropna() if column in frame else pd.Series(dtype=object)
    return values.iloc[0] if len(values) else None


class InboundDrafter:
    """The `DraftPurchaseOrders` seam: one DRAFT per warehouse from `supplier`, through
    inbound's service; `say` reports what was made and what was skipped."""

    def __init__(
        self,
        unit: Callable[[], UnitOfWork],
        supplier: SupplierPublic,
        products: Callable[[list[str]], Mapping[str, ProductPublic]],
        *,
        today: Callable[[], date],
        say: Callable[[str], None],
    ) -> None:
        self.unit = unit
        self.supplier = supplier
        self.products = products
        self.today = today
        self.say = say

    def __call__(self, suggestions: pd.DataFrame) -> list[str]:
        due = suggestions[suggestions.suggested_units > 0]
        if due.empty:
            self.say("nothing to draft: no SKU needs reordering")
            return []
        on_order = {(u.sku, u.warehouse_id) for u in inbound.units_on_order(self.unit())}
        plan = plan_drafts(
            due, on_order=on_order, products=self.products(sorted(set(due.sku.astype(str))))
        )
        self._report_skipped(plan)
        version = _first(due, "model_version")
        generated = _first(due, "generated_at")
        lead = _first(due, "lead_time_days")
        arrival = self.today() + timedelta(days=int(lead)) if lead is not None else None
        made: list[str] = []
        for draft in plan.drafts:
            po = inbound.create_order(
                self.unit(),
                PurchaseOrderCreate(
                    supplier_id=uuid.UUID(self.supplier.id),
                    warehouse_id=draft.warehouse_id,
                    currency=draft.currency,
                    expected_arrival=arrival,
                    notes=notes_for(
                        draft,
                        None if version is None else str(version),
                        None if generated is None else pd.Timestamp(generated).to_pydatetime(),
                    ),
                    lines=[
                        LineCreate(
                            sku=line.sku, quantity=line.units, unit_cost_cents=line.unit_cost_cents
                        )
                        for line in draft.lines
                    ],
                ),
                actor_id=None,
            )
            made.append(po.id)
            self.say(
                f"drafted {po.number} for {draft.warehouse_id} from {self.supplier.code}: "
                f"{len(po.lines)} SKU(s), {sum(line.units for line in draft.lines)} units"
            )
        return made

    def _report_skipped(self, plan: DraftPlan) -> None:
        if plan.on_order:
            listed = ", ".join(f"{sku}@{wh}" for sku, wh in plan.on_order[:NOTES_SKUS])
            self.say(
                f"skipped {len(plan.on_order)} SKU x warehouse already on an open purchase "
                f"order (raise that order instead): {listed}"
            )
        if plan.not_in_catalog:
            self.say(
                f"skipped {len(plan.not_in_catalog)} SKU(s) no longer in the catalog: "
                + ", ".join(plan.not_in_catalog[:NOTES_SKUS])
            )
        if plan.discontinued:
            self.say(
                f"skipped {len(plan.discontinued)} discontinued SKU(s): "
                + ", ".join(plan.discontinued[:NOTES_SKUS])
            )
