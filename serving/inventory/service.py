"""Use cases of the stock ledger, each inside the caller's transaction (its unit of work).

For checkout (same transaction as its order):
- `reserve(conn, order_id, lines, expires_at, gate=...)` holds stock for every line or raises
  `domain.OutOfStock` naming the short SKUs, having changed nothing (it runs in a savepoint);
- `release(conn, order_id, reason, gate=...)` gives held stock back (idempotent);
- `commit_sale(conn, order_id)` turns held stock into sold stock (idempotent; NotReserved when
  the hold was released, e.g. it expired before payment).
For operators: `set_on_hand`, `adjust`, `receive`. For everyone: `availability`, and
`sku_availability` (the cart's seam). For schedulers: `sweep_expired`, `rebuild_gate`.

Each change writes its movement row and its events to the outbox in the same transaction. The
Redis gate follows each change before the commit; a transaction that then rolls back leaves it
off by that change until the next `rebuild_gate` (which runs at app start and from the CLI).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy import Connection, Engine, RowMapping

from serving import outbox
from serving.catalog import service as catalog
from serving.errors import ApiError, not_found
from serving.inventory import domain, store
from serving.inventory.domain import (
    InventoryErrorCode,
    Movement,
    MovementReason,
    OutOfStock,
    Reservation,
    ReservationStatus,
    StockLevel,
)
from serving.inventory.gate import Admission, StockGate
from serving.inventory.schemas import (
    MovementPublic,
    MovementsPage,
    StockAvailability,
    StockLevelPublic,
    WarehouseAvailability,
)
from shoplake.config import Settings

SOURCE = "/serving/inventory"
log = logging.getLogger(__name__)

_STATUS = {
    InventoryErrorCode.OUT_OF_STOCK: 409,
    InventoryErrorCode.BELOW_RESERVED: 409,
    InventoryErrorCode.NEGATIVE_STOCK: 409,
    InventoryErrorCode.INVALID_LINES: 422,
    InventoryErrorCode.ALREADY_RESERVED: 409,
    InventoryErrorCode.NOT_RESERVED: 409,
}


def as_api_error(exc: domain.InventoryError) -> ApiError:
    return ApiError(_STATUS[exc.code], exc.code, exc.message, exc.details)


@contextlib.contextmanager
def _api_errors() -> Iterator[None]:
    try:
        yield
    except domain.InventoryError as exc:
        raise as_api_error(exc) from exc


def gate_for(client: redis.Redis, settings: Settings) -> StockGate | None:
    return StockGate(client) if settings.stock_gate_enabled else None


def expiry(settings: Settings, now: datetime | None = None) -> datetime:
    """When a reservation made now expires unless its order is paid."""
    return (now or datetime.now(UTC)) + timedelta(seconds=settings.reservation_ttl_s)


def _record(conn: Connection, movement: Movement, actor_id: str | None = None) -> None:
    store.add_movement(conn, movement, actor_id)
    for event in domain.events_of(movement):
        outbox.record(conn, event, SOURCE)


def _follow(gate: StockGate | None, before: StockLevel, after: StockLevel) -> None:
    if gate is not None:
        gate.shift(after.sku, after.available - before.available)


# ---------------------------------------------------------------- checkout's calls


def reserve(
    conn: Connection,
    order_id: str,
    lines: Sequence[tuple[str, int]],
    expires_at: datetime,
    *,
    gate: StockGate | None = None,
) -> list[Reservation]:
    """Hold stock for every line, all or nothing; OutOfStock names the short SKUs.

    With a gate, sold-out hot SKUs are refused before Postgres is touched. Lines of untracked
    SKUs get no reservation. Calling it twice for one order raises AlreadyReserved.
    """
    merged = domain.merge_lines(lines)
    admissions: list[Admission] = []
    if gate is not None:  # first, so that a sold-out hot SKU costs no Postgres round trip
        admissions, sold_out = gate.admit_all(merged)
        if sold_out:
            raise OutOfStock(sold_out)
    try:
        if store.has_reservations(conn, order_id):
            raise domain.AlreadyReserved(f"order '{order_id}' already holds stock")
        with conn.begin_nested():
            allocations = domain.allocate(store.SqlStockLedger(conn), merged)
            reservations = [
                Reservation(order_id, a.sku, a.warehouse_id, a.quantity, expires_at)
                for a in allocations
            ]
            if reservations:
                store.insert_reservations(conn, reservations)
            for a in allocations:
                _record(
                    conn,
                    Movement(MovementReason.RESERVATION, a.before, a.after, order_id=order_id),
                )
    except Exception:
        if gate is not None:
            gate.refund_all(admissions)
        raise
    return reservations


def release(
    conn: Connection, order_id: str, reason: str, *, gate: StockGate | None = None
) -> list[Reservation]:
    """Give back what the order holds; the reservations released (none when nothing is held)."""
    held = store.reservations_of(conn, order_id, status=ReservationStatus.HELD, lock=True)
    for r in held:
        after = store.shift_level(conn, r.sku, r.warehouse_id, on_hand=0, reserved=-r.quantity)
        before = StockLevel(r.sku, r.warehouse_id, after.on_hand, after.reserved + r.quantity)
        _record(
            conn,
            Movement(MovementReason.RELEASE, before, after, order_id=order_id, note=reason),
        )
        _follow(gate, before, after)
    if held:
        store.settle_reservations(conn, order_id, ReservationStatus.RELEASED, reason)
    return [_with_status(r, ReservationStatus.RELEASED) for r in held]


def commit_sale(conn: Connection, order_id: str) -> list[Reservation]:
    """Held units become sold: on hand and reserved drop by each reservation's quantity.

    Idempotent (a sold order returns []); NotReserved when nothing was ever held or the hold
    was released. A hold past its expiry that the sweep has not released yet is still honoured:
    its units were never offered to anyone else.
    """
    held = store.reservations_of(conn, order_id, status=ReservationStatus.HELD, lock=True)
    if not held:
        every = store.reservations_of(conn, order_id)
        if every and all(r.status is ReservationStatus.SOLD for r in every):
            return []
        raise domain.NotReserved(f"order '{order_id}' holds no stock to sell", {"order": order_id})
    for r in held:
        after = store.shift_level(
            conn, r.sku, r.warehouse_id, on_hand=-r.quantity, reserved=-r.quantity
        )
        before = StockLevel(
            r.sku, r.warehouse_id, after.on_hand + r.quantity, after.reserved + r.quantity
        )
        _record(conn, Movement(MovementReason.SALE, before, after, order_id=order_id))
    store.settle_reservations(conn, order_id, ReservationStatus.SOLD, None)
    return [_with_status(r, ReservationStatus.SOLD) for r in held]


def _with_status(r: Reservation, status: ReservationStatus) -> Reservation:
    return Reservation(r.order_id, r.sku, r.warehouse_id, r.quantity, r.expires_at, status)


# ---------------------------------------------------------------- operators


def require_product(conn: Connection, client: redis.Redis, settings: Settings, sku: str) -> None:
    if sku not in catalog.get_products(conn, client, settings, [sku]):
        raise not_found("product", sku)


def _public(level: StockLevel) -> StockLevelPublic:
    return StockLevelPublic(
        sku=level.sku,
        warehouse_id=level.warehouse_id,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.available,
    )


def _change_on_hand(
    conn: Connection,
    sku: str,
    warehouse_id: str,
    delta: int,
    movement: MovementReason,
    *,
    gate: StockGate | None,
    actor_id: str | None,
    reference: str | None = None,
    note: str | None = None,
) -> StockLevelPublic:
    before = store.lock_or_create_level(conn, sku, warehouse_id)
    if delta == 0:  # nothing changes: no movement, no event
        return _public(before)
    with _api_errors():
        after = before.adjusted(delta)
    store.write_level(conn, after)
    _record(
        conn,
        Movement(movement, before, after, reference=reference, note=note),
        actor_id,
    )
    _follow(gate, before, after)
    return _public(after)


def set_on_hand(
    conn: Connection,
    sku: str,
    warehouse_id: str,
    on_hand: int,
    *,
    note: str | None,
    actor_id: str | None,
    gate: StockGate | None,
) -> StockLevelPublic:
    """A stock count: on hand becomes `on_hand`, recorded as an adjustment by the difference."""
    before = store.lock_or_create_level(conn, sku, warehouse_id)
    return _change_on_hand(
        conn,
        sku,
        warehouse_id,
        on_hand - before.on_hand,
        MovementReason.ADJUSTMENT,
        gate=gate,
        actor_id=actor_id,
        note=note or "count",
    )


def adjust(
    conn: Connection,
    sku: str,
    warehouse_id: str,
    delta: int,
    reason: str,
    *,
    actor_id: str | None,
    gate: StockGate | None,
) -> StockLevelPublic:
    if delta == 0:
        raise ApiError(422, InventoryErrorCode.INVALID_LINES, "an adjustment needs a delta")
    return _change_on_hand(
        conn,
        sku,
        warehouse_id,
        delta,
        MovementReason.ADJUSTMENT,
        gate=gate,
        actor_id=actor_id,
        note=reason,
    )


def receive(
    conn: Connection,
    sku: str,
    warehouse_id: str,
    quantity: int,
    reference: str | None,
    *,
    actor_id: str | None,
    gate: StockGate | None,
) -> StockLevelPublic:
    return _change_on_hand(
        conn,
        sku,
        warehouse_id,
        quantity,
        MovementReason.RECEIPT,
        gate=gate,
        actor_id=actor_id,
        reference=reference,
    )


def movements(
    conn: Connection,
    client: redis.Redis,
    settings: Settings,
    sku: str,
    *,
    limit: int,
    before: int | None,
) -> MovementsPage:
    require_product(conn, client, settings, sku)
    rows = store.movements(conn, sku, limit=limit, before_id=before)
    items = [_movement(row) for row in rows]
    return MovementsPage(items=items, next_before=items[-1].id if len(items) == limit else None)


def _movement(row: RowMapping) -> MovementPublic:
    return MovementPublic.model_validate(dict(row))


# ---------------------------------------------------------------- reading


def availability(
    conn: Connection, client: redis.Redis, settings: Settings, sku: str
) -> StockAvailability:
    """A shopper's view; 404 for a SKU the catalog does not show."""
    product = catalog.get_products(conn, client, settings, [sku]).get(sku)
    if product is None or product.status == "draft":
        raise not_found("product", sku)
    levels = store.levels_of(conn, sku)
    total = sum(level.available for level in levels)
    return StockAvailability(
        sku=sku,
        tracked=bool(levels),
        in_stock=not levels or total > 0,
        available=total if levels else None,
        warehouses=[
            WarehouseAvailability(warehouse_id=level.warehouse_id, available=level.available)
            for level in levels
        ],
    )


def sku_availability(conn: Connection, skus: Sequence[str]) -> dict[str, bool]:
    """Whether each SKU can be bought now: untracked SKUs can, tracked ones need available > 0."""
    if not skus:
        return {}
    totals = store.available_totals(conn, list(skus))
    return {sku: totals.get(sku, 1) > 0 for sku in skus}


# ---------------------------------------------------------------- maintenance


@dataclass(frozen=True)
class SweepResult:
    orders: int
    units: int


def sweep_expired(
    engine: Engine,
    *,
    now: datetime | None = None,
    gate: StockGate | None = None,
    batch: int = 500,
) -> SweepResult:
    """Release every hold whose order was not paid in time.

    One transaction per order, so that its stock rows lock in the same (sku, warehouse) order
    as `reserve` and a sweep never deadlocks with checkout. Safe to run in several processes:
    an order released (or sold) meanwhile has nothing held left and is skipped.
    """
    now = now or datetime.now(UTC)
    orders = units = 0
    while True:
        with engine.connect() as conn:
            expired = store.expired_orders(conn, now, batch)
        if not expired:
            return SweepResult(orders, units)
        for order_id in expired:
            with engine.begin() as conn:
                released = release(conn, order_id, "expired")
            if gate is not None:  # after the commit: the gate never runs ahead of the ledger
                for r in released:
                    gate.refund(r.sku, r.quantity)
            orders += bool(released)
            units += sum(r.quantity for r in released)


def rebuild_gate(engine: Engine, gate: StockGate) -> int:
    """Set every tracked SKU's gate key from the ledger; the number of keys written."""
    with engine.connect() as conn:
        totals = store.available_totals(conn)
    return gate.load(totals)


def run_maintenance(engine: Engine, client: redis.Redis, settings: Settings) -> SweepResult:
    """What the API or a scheduler runs periodically: expire holds, then re-sync the gate."""
    gate = gate_for(client, settings)
    result = sweep_expired(engine, gate=gate, batch=settings.inventory_sweep_batch)
    if gate is not None:
        rebuild_gate(engine, gate)
    return result


def start(engine: Engine, client: redis.Redis, settings: Settings) -> None:
    """App start: rebuild the gate. A Redis failure is logged, never fatal: the gate is an
    optimisation."""
    gate = gate_for(client, settings)
    if gate is None:
        return
    try:
        keys = rebuild_gate(engine, gate)
        log.info("stock gate rebuilt: %d SKUs", keys)
    except redis.RedisError as exc:
        log.warning("stock gate not rebuilt (%s); Postgres alone guards the stock", exc)
