"""The finance reconciliation's third leg: the marts' net revenue against Postgres's payments
ledger, per order day, to the cent.

dbt's `finance_revenue_reconciliation` already holds the marts against silver; Postgres is out
of dbt's reach, so this step reads both sides itself: per order, gold's `net_revenue_cents`
(delta-rs) and the ledger's captured-minus-refunded amount (a payment row holds the state it
reached: `captured` keeps its amount less its partial refunds, `refunded` gave it all back).
Orders are grouped by gold's order day on both sides, so the two never disagree about which
day an order belongs to. Orders Postgres has and the lake has not received yet are in flight,
reported apart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.lake import FCT_ORDERS

# What a payment row contributes to revenue, by the state it reached: a captured payment keeps
# its amount less what partial refunds (a return's) gave back; a refunded one gave it all back.
LEDGER_NET = sa.text(
    "select p.order_id, sum(case when p.status = 'captured' "
    "then p.amount_cents - coalesce(r.refunded_cents, 0) else 0 end) "
    "from payments p left join ("
    "select payment_id, sum(amount_cents) as refunded_cents from payment_refunds "
    "group by payment_id) r on r.payment_id = p.id "
    "group by p.order_id"
)


@dataclass(frozen=True)
class DayReconciliation:
    order_date: date
    orders: int
    gold_cents: int
    postgres_cents: int
    differing_orders: tuple[str, ...] = ()

    @property
    def difference_cents(self) -> int:
        return self.gold_cents - self.postgres_cents


@dataclass(frozen=True)
class RevenueReconciliation:
    days: tuple[DayReconciliation, ...]
    in_flight: tuple[str, ...] = field(default=())  # in Postgres, not in the lake yet
    lake_only: tuple[str, ...] = field(default=())  # in the lake, unknown to Postgres

    @property
    def ok(self) -> bool:
        return not self.lake_only and all(d.difference_cents == 0 for d in self.days)

    @property
    def gold_cents(self) -> int:
        return sum(d.gold_cents for d in self.days)

    @property
    def postgres_cents(self) -> int:
        return sum(d.postgres_cents for d in self.days)

    def problems(self) -> list[str]:
        found = [
            f"{d.order_date}: gold {d.gold_cents / 100:.2f} ≠ Postgres "
            f"{d.postgres_cents / 100:.2f} ({d.difference_cents:+d} cents; orders "
            f"{', '.join(d.differing_orders[:5])})"
            for d in self.days
            if d.difference_cents
        ]
        if self.lake_only:
            found.append(
                f"{len(self.lake_only)} orders in the marts are not in Postgres: "
                f"{', '.join(self.lake_only[:5])}"
            )
        return found


def _gold_orders(lake_root: str) -> dict[str, tuple[date, int]]:
    from deltalake import DeltaTable

    table = (
        DeltaTable(FCT_ORDERS.path(lake_root))
        .to_pyarrow_dataset()
        .to_table(columns=["order_id", "order_date", "net_revenue_cents"])
        .to_pylist()
    )
    return {row["order_id"]: (row["order_date"], int(row["net_revenue_cents"])) for row in table}


def reconcile_revenue(settings: Settings, *, lake_root: str | None = None) -> RevenueReconciliation:
    gold = _gold_orders(lake_root or settings.lake_path)
    engine = make_engine(settings, pool_size=1)
    try:
        with engine.connect() as conn:
            ledger = {str(order_id): int(net) for order_id, net in conn.execute(LEDGER_NET)}
            known = {
                str(order_id) for (order_id,) in conn.execute(sa.text("select id from orders"))
            }
    finally:
        engine.dispose()
    per_day: dict[date, list[tuple[str, int, int]]] = defaultdict(list)
    for order_id, (day, gold_cents) in gold.items():
        per_day[day].append((order_id, gold_cents, ledger.get(order_id, 0)))
    days = tuple(
        DayReconciliation(
            order_date=day,
            orders=len(orders),
            gold_cents=sum(g for _, g, _ in orders),
            postgres_cents=sum(p for _, _, p in orders),
            differing_orders=tuple(sorted(o for o, g, p in orders if g != p)),
        )
        for day, orders in sorted(per_day.items())
    )
    return RevenueReconciliation(
        days=days,
        in_flight=tuple(sorted(known - set(gold))),
        lake_only=tuple(sorted(set(gold) - known)),
    )
