"""Use cases of the stock ledger, each inside a unit of work (`serving/unit_of_work.py`).

For checkout, inside its unit (the order's transaction):
- `reserve(uow, order_id, lines, expires_at)` holds stock for every line or raises
  `domain.OutOfStock` naming the short SKUs, having changed nothing (it runs in a savepoint);
- `release(uow, order_id, reason)` gives held stock back (idempotent);
- `commit_sale(uow, order_id)` turns held stock into sold stock (idempotent; NotReserved when
  the hold was released, e.g. it expired before payment);
- `receive(uow, ...)` puts units back on a shelf (a cancelled order's restock, a return's);
  `write_off` books returned units in and out again (damaged), `is_tracked` says whether the
  ledger manages a SKU at all.
For operators, each in a unit of its own: `count_stock`, `adjust_stock`, `receive_stock`,
`movements`. For everyone: `availability`, and `sku_availability` (the cart's seam, on a
plain connection). For schedulers: `release_expired` (`sweep_expired` on an engine),
`rebuild_gate`, `run_maintenance`.

Each change writes its movement row and its events to the outbox in the same transaction. The
Redis gate follows each release, receipt and adjustment after the commit (so it never runs
ahead of the ledger); `reserve` takes gate units before Postgres and gives them back at once if
it fails. A transaction rolled back after a successful `reserve` leaves the gate low until the
next `rebuild_gate` (app start, the CLI, `run_maintenance`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy import Connection, Engine

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
from serving.pagination import (
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    fingerprint,
    invalid_cursor,
)
from serving.unit_of_work import SqlUnitOfWork, UnitOfWork
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


STORE = "inventory"
GATE = "inventory.gate"
CATALOG = "inventory.catalog"


def gate_for(client: redis.Redis, settings: Settings) -> StockGate | None:
    return StockGate(client) if settings.stock_gate_enabled else None


def expiry(settings: Settings, now: datetime | None = None) -> datetime:
    """When a reservation made now expires unless its order is paid."""
    return (now or datetime.now(UTC)) + timedelta(seconds=settings.reservation_ttl_s)


def _store(uow: UnitOfWork) -> store.InventoryStore:
    return uow.store(STORE, store.SqlInventoryStore.on)


def _gate(uow: UnitOfWork) -> StockGate | None:
    return uow.store(GATE, lambda u: gate_for(u.redis, u.settings))


def _record(
    uow: UnitOfWork, movement: Movement, actor_id: str | None = None, *, transitions: bool = True
) -> None:
    _store(uow).add_movement(movement, actor_id)
    for event in domain.events_of(movement, transitions=transitions):
        uow.record(event, SOURCE)


def _follow(uow: UnitOfWork, before: StockLevel, after: StockLevel) -> None:
    """The gate follows the ledger once the change is committed, never ahead of it."""
    gate = _gate(uow)
    delta = after.available - before.available
    if gate is not None and delta:
        uow.after_commit(lambda: gate.shift(after.sku, delta))


# ---------------------------------------------------------------- checkout's calls


def sold_out_at_gate(uow: UnitOfWork, lines: Sequence[tuple[str, int]]) -> list[str]:
    """The SKUs among `lines` the gate holds fewer units of than asked: Redis only, one MGET,
    nothing taken. Empty without a gate or for SKUs it does not track. A refusal can be
    trusted (the gate never runs ahead of the ledger, see `rebuild_gate`); a pass cannot:
    `reserve` decides."""
    gate = _gate(uow)
    if gate is None or not lines:
        return []
    merged = domain.merge_lines(lines)
    levels = gate.levels([sku for sku, _ in merged])
    return [
        sku for sku, quantity in merged if (left := levels[sku]) is not None and left < quantity
    ]


def reserve(
    uow: UnitOfWork,
    order_id: str,
    lines: Sequence[tuple[str, int]],
    expires_at: datetime,
) -> list[Reservation]:
    """Hold stock for every line, all or nothing; OutOfStock names the short SKUs.

    With the unit's gate, sold-out hot SKUs are refused before Postgres is touched. Lines of
    untracked SKUs get no reservation. Calling it twice for one order raises AlreadyReserved.
    """
    merged = domain.merge_lines(lines)
    gate = _gate(uow)
    admissions: list[Admission] = []
    if gate is not None:  # first, so that a sold-out hot SKU costs no Postgres round trip
        admissions, sold_out = gate.admit_all(merged)
        if sold_out:
            raise OutOfStock(sold_out)
    ledger = _store(uow)
    try:
        if ledger.has_reservations(order_id):
            raise domain.AlreadyReserved(f"order '{order_id}' already holds stock")
        with uow.savepoint():
            allocations = domain.allocate(ledger, merged)
            reservations = [
                Reservation(order_id, a.sku, a.warehouse_id, a.quantity, expires_at)
                for a in allocations
            ]
            if reservations:
                ledger.insert_reservations(reservations)
            for a in allocations:
                _record(
                    uow,
                    Movement(MovementReason.RESERVATION, a.before, a.after, order_id=order_id),
                )
    except Exception:
        if gate is not None:
            gate.refund_all(admissions)
        raise
    return reservations


def release(uow: UnitOfWork, order_id: str, reason: str) -> list[Reservation]:
    """Give back what the order holds; the reservations released (none when nothing is held)."""
    ledger = _store(uow)
    held = ledger.reservations_of(order_id, status=ReservationStatus.HELD, lock=True)
    for r in held:
        after = ledger.shift_level(r.sku, r.warehouse_id, on_hand=0, reserved=-r.quantity)
        before = StockLevel(r.sku, r.warehouse_id, after.on_hand, after.reserved + r.quantity)
        _record(
            uow,
            Movement(MovementReason.RELEASE, before, after, order_id=order_id, note=reason),
        )
        _follow(uow, before, after)
    if held:
        ledger.settle_reservations(order_id, ReservationStatus.RELEASED, reason)
    return [_with_status(r, ReservationStatus.RELEASED) for r in held]


def commit_sale(uow: UnitOfWork, order_id: str) -> list[Reservation]:
    """Held units become sold: on hand and reserved drop by each reservation's quantity.

    Idempotent (a sold order returns []); NotReserved when nothing was ever held or the hold
    was released. A hold past its expiry that the sweep has not released yet is still honoured:
    its units were never offered to anyone else.
    """
    ledger = _store(uow)
    held = ledger.reservations_of(order_id, status=ReservationStatus.HELD, lock=True)
    if not held:
        every = ledger.reservations_of(order_id)
        if every and all(r.status is ReservationStatus.SOLD for r in every):
            return []
        raise domain.NotReserved(f"order '{order_id}' holds no stock to sell", {"order": order_id})
    for r in held:
        after = ledger.shift_level(r.sku, r.warehouse_id, on_hand=-r.quantity, reserved=-r.quantity)
        before = StockLevel(
            r.sku, r.warehouse_id, after.on_hand + r.quantity, after.reserved + r.quantity
        )
        _record(uow, Movement(MovementReason.SALE, before, after, order_id=order_id))
    ledger.settle_reservations(order_id, ReservationStatus.SOLD, None)
    return [_with_status(r, ReservationStatus.SOLD) for r in held]


def _with_status(r: Reservation, status: ReservationStatus) -> Reservation:
    return Reservation(r.order_id, r.sku, r.warehouse_id, r.quantity, r.expires_at, status)


# ---------------------------------------------------------------- operators


def require_product(uow: UnitOfWork, sku: str) -> None:
    catalog_view = uow.store(CATALOG, store.SqlCatalogView)
    if catalog_view.status_of(sku) is None:
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
    uow: UnitOfWork,
    sku: str,
    warehouse_id: str,
    delta: int,
    movement: MovementReason,
    *,
    actor_id: str | None,
    reference: str | None = None,
    note: str | None = None,
) -> StockLevelPublic:
    ledger = _store(uow)
    before = ledger.lock_or_create_level(sku, warehouse_id)
    if delta == 0:  # nothing changes: no movement, no event
        return _public(before)
    with _api_errors():
        after = before.adjusted(delta)
    ledger.write_level(after)
    _record(
        uow,
        Movement(movement, before, after, reference=reference, note=note),
        actor_id,
    )
    _follow(uow, before, after)
    return _public(after)


def set_on_hand(
    uow: UnitOfWork,
    sku: str,
    warehouse_id: str,
    on_hand: int,
    *,
    note: str | None,
    actor_id: str | None,
) -> StockLevelPublic:
    """A stock count: on hand becomes `on_hand`, recorded as an adjustment by the difference."""
    before = _store(uow).lock_or_create_level(sku, warehouse_id)
    return _change_on_hand(
        uow,
        sku,
        warehouse_id,
        on_hand - before.on_hand,
        MovementReason.ADJUSTMENT,
        actor_id=actor_id,
        note=note or "count",
    )


def adjust(
    uow: UnitOfWork,
    sku: str,
    warehouse_id: str,
    delta: int,
    reason: str,
    *,
    actor_id: str | None,
) -> StockLevelPublic:
    if delta == 0:
        raise ApiError(422, InventoryErrorCode.INVALID_LINES, "an adjustment needs a delta")
    return _change_on_hand(
        uow,
        sku,
        warehouse_id,
        delta,
        MovementReason.ADJUSTMENT,
        actor_id=actor_id,
        note=reason,
    )


def receive(
    uow: UnitOfWork,
    sku: str,
    warehouse_id: str,
    quantity: int,
    reference: str | None,
    *,
    actor_id: str | None,
) -> StockLevelPublic:
    return _change_on_hand(
        uow,
        sku,
        warehouse_id,
        quantity,
        MovementReason.RECEIPT,
        actor_id=actor_id,
        reference=reference,
    )


def is_tracked(uow: UnitOfWork, sku: str) -> bool:
    """Whether the ledger manages the SKU's stock (it has a level in some warehouse)."""
    return bool(_store(uow).levels_of(sku))


def write_off(
    uow: UnitOfWork,
    sku: str,
    warehouse_id: str,
    quantity: int,
    reference: str | None,
    reason: str,
    *,
    actor_id: str | None,
) -> StockLevelPublic:
    """Units that came back unsellable (a damaged return): booked in and written off at once,
    a receipt and an adjustment of the same size, so the ledger shows where they went and on
    hand is unchanged. No stock-out or back-in-stock: nothing became sellable."""
    ledger = _store(uow)
    before = ledger.lock_or_create_level(sku, warehouse_id)
    with _api_errors():
        booked = before.received(quantity)
    _record(
        uow,
        Movement(MovementReason.RECEIPT, before, booked, reference=reference),
        actor_id,
        transitions=False,
    )
    _record(
        uow,
        Movement(MovementReason.ADJUSTMENT, booked, before, reference=reference, note=reason),
        actor_id,
        transitions=False,
    )
    return _public(before)


def count_stock(
    uow: UnitOfWork,
    sku: str,
    warehouse_id: str,
    on_hand: int,
    *,
    note: str | None,
    actor_id: str | None,
) -> StockLevelPublic:
    """The staff route: `set_on_hand` of a product the catalog knows, in its own unit."""
    with uow:
        require_product(uow, sku)
        level = set_on_hand(uow, sku, warehouse_id, on_hand, note=note, actor_id=actor_id)
        uow.commit()
    return level


def adjust_stock(
    uow: UnitOfWork,
    sku: str,
    warehouse_id: str,
    delta: int,
    reason: str,
    *,
    actor_id: str | None,
) -> StockLevelPublic:
    """The staff route: `adjust` of a product the catalog knows, in its own unit."""
    with uow:
        require_product(uow, sku)
        level = adjust(uow, sku, warehouse_id, delta, reason, actor_id=actor_id)
        uow.commit()
    return level


def receive_stock(
    uow: UnitOfWork,
    sku: str,
    warehouse_id: str,
    quantity: int,
    reference: str | None,
    *,
    actor_id: str | None,
) -> StockLevelPublic:
    """The staff route: `receive` for a product the catalog knows, in its own unit."""
    with uow:
        require_product(uow, sku)
        level = receive(uow, sku, warehouse_id, quantity, reference, actor_id=actor_id)
        uow.commit()
    return level


def movements(uow: UnitOfWork, sku: str, *, limit: int, cursor: str | None) -> MovementsPage:
    """Newest first, a page at a time (keyset: the movement id)."""
    query = fingerprint({"sku": sku})
    before = None
    if cursor:
        try:
            before = decode_cursor(cursor, MOVEMENTS_LISTING, query).get("id")
            if not isinstance(before, int) or isinstance(before, bool):
                raise InvalidCursor("the cursor carries no movement id")
        except InvalidCursor as exc:
            raise invalid_cursor(exc) from exc
    with uow:
        require_product(uow, sku)
        rows = _store(uow).movements(sku, limit=limit + 1, before_id=before)
    items = [MovementPublic.model_validate(dict(row)) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(MOVEMENTS_LISTING, query, {"id": items[-1].id})
    return MovementsPage(items=items, next_cursor=next_cursor)


MOVEMENTS_LISTING = "stock-movements"


# ---------------------------------------------------------------- reading


def availability(uow: UnitOfWork, sku: str) -> StockAvailability:
    """A shopper's view; 404 for a SKU the catalog does not show."""
    with uow:
        status = uow.store(CATALOG, store.SqlCatalogView).status_of(sku)
        if status is None or status == "draft":
            raise not_found("product", sku)
        levels = _store(uow).levels_of(sku)
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
    """Whether each SKU can be bought now: untracked SKUs can, tracked ones need available > 0.
    (The cart's seam: it reads on its own connection, outside any unit of work.)"""
    if not skus:
        return {}
    totals = store.SqlInventoryStore(conn).available_totals(list(skus))
    return {sku: totals.get(sku, 1) > 0 for sku in skus}


def sold_out(client: redis.Redis, settings: Settings, skus: Sequence[str]) -> set[str]:
    """The tracked SKUs with nothing available, from the admission gate in Redis (no Postgres
    round trip: recommendations ask this on every list). Empty when the gate is off."""
    gate = gate_for(client, settings)
    if gate is None or not skus:
        return set()
    return {sku for sku, units in gate.levels(skus).items() if units is not None and units <= 0}


# ---------------------------------------------------------------- maintenance


@dataclass(frozen=True)
class SweepResult:
    orders: int
    units: int


def release_expired(
    uow: UnitOfWork, *, now: datetime | None = None, batch: int = 500
) -> SweepResult:
    """Release every hold whose order was not paid in time.

    One transaction per order, so that its stock rows lock in the same (sku, warehouse) order
    as `reserve` and a sweep never deadlocks with checkout. Safe to run in several processes:
    an order released (or sold) meanwhile has nothing held left and is skipped. The gate gets
    the units back after each commit, so it never runs ahead of the ledger.
    """
    now = now or datetime.now(UTC)
    orders = units = 0
    while True:
        with uow:
            expired = _store(uow).expired_orders(now, batch)
        if not expired:
            return SweepResult(orders, units)
        for order_id in expired:
            with uow:
                released = release(uow, order_id, "expired")
                uow.commit()
            orders += bool(released)
            units += sum(r.quantity for r in released)


def sweep_expired(
    engine: Engine,
    *,
    now: datetime | None = None,
    gate: StockGate | None = None,
    batch: int = 500,
) -> SweepResult:
    """`release_expired` on the database, with the gate the caller chose (None: no gate)."""
    return release_expired(SqlUnitOfWork(engine, stores={GATE: gate}), now=now, batch=batch)


def rebuild_gate(engine: Engine, gate: StockGate) -> int:
    """Set every tracked SKU's gate key from the ledger; the number of keys written."""
    with engine.connect() as conn:
        totals = store.SqlInventoryStore(conn).available_totals()
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
