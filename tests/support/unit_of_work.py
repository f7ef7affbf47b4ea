"""The money paths' unit of work in memory (cosmicpython's FakeUnitOfWork), and the real one
over a test's engine.

`FakeUnitOfWork` hands out in-memory stores under the names the services open them by, and
honours transaction semantics: entering it snapshots every transactional store; `commit`
keeps the changes, moves the recorded events to `events` and runs the after-commit actions;
leaving without commit (or an error inside) restores the snapshot and drops the events and
actions, exactly as Postgres would. `savepoint` does the same for a nested block. Redis-backed
stores (the carts, the stock gate) are not transactional, as in production.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import Engine

from serving.archive.reader import ArchivedOrder
from serving.cart.store import CartLine, CartState
from serving.catalog.schemas import ProductPublic, ProductStatus
from serving.checkout.store import CheckoutRecord
from serving.fulfilment.carrier import ParcelRequest, Registration
from serving.fulfilment.domain import Scan, ShipmentStatus
from serving.inventory.domain import Movement, Reservation, ReservationStatus, StockLevel
from serving.orders.domain import HistoryEntry, OrderStatus
from serving.payments.domain import Payment
from serving.payments.gateway import PaymentGateway, PaymentStatus
from serving.unit_of_work import SqlUnitOfWork
from shoplake.config import Settings
from shoplake.events.base import EventData

S = TypeVar("S")
Row = dict[str, Any]


class Clock:
    """A clock the test moves by hand; every store stamps rows with it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# ---------------------------------------------------------------- the unit


class FakeUnitOfWork:
    def __init__(
        self,
        *,
        gateway: PaymentGateway,
        stores: Mapping[str, object],
        settings: Settings | None = None,
        non_transactional: Sequence[str] = (),
        shared: Sequence[object] = (),
    ) -> None:
        self._gateway = gateway
        self._settings = settings or Settings(_env_file=None)
        self.stores = dict(stores)
        self.non_transactional = set(non_transactional)
        self.shared = list(shared)  # kept by reference through snapshots (e.g. a clock)
        self.events: list[tuple[EventData, str]] = []  # committed, in order
        self.commits = 0
        self._pending: list[tuple[EventData, str]] = []
        self._after: list[Callable[[], None]] = []
        self._snapshot: dict[str, dict[str, Any]] | None = None
        self._reading = False
        self.reads = 0  # times `reading()` was entered: the reads outside a transaction

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def gateway(self) -> PaymentGateway:
        return self._gateway

    def _transactional(self) -> dict[str, object]:
        return {n: s for n, s in self.stores.items() if n not in self.non_transactional}

    def _copy(self, state: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(state, {id(o): o for o in self.shared})

    def _take_snapshot(self) -> dict[str, dict[str, Any]]:
        return {name: self._copy(vars(s)) for name, s in self._transactional().items()}

    def _restore(self, snapshot: dict[str, dict[str, Any]]) -> None:
        for name, state in snapshot.items():
            store = self.stores[name]
            vars(store).clear()
            vars(store).update(self._copy(state))

    @property
    def in_transaction(self) -> bool:
        return self._snapshot is not None

    def __enter__(self) -> Self:
        if self._snapshot is not None:
            raise RuntimeError("this unit of work is already in a transaction")
        self._snapshot = self._take_snapshot()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self._snapshot = None

    def commit(self) -> None:
        if self._snapshot is None:
            raise RuntimeError("nothing to commit outside `with uow:`")
        self.commits += 1
        self.events.extend(self._pending)
        self._pending = []
        self._snapshot = self._take_snapshot()  # what a later rollback goes back to
        actions, self._after = self._after, []
        for action in actions:
            action()

    def rollback(self) -> None:
        if self._snapshot is not None:
            self._restore(self._snapshot)
        self._pending = []
        self._after = []

    def _require_transaction(self) -> None:
        if self._snapshot is None:
            raise RuntimeError("enter the unit of work (`with uow:`) first")

    @contextlib.contextmanager
    def reading(self) -> Iterator[Self]:
        if self._snapshot is not None or self._reading:
            raise RuntimeError("this unit of work is already in a transaction")
        self._reading = True
        self.reads += 1
        try:
            yield self
        finally:
            self._reading = False

    def store(self, name: str, open_store: Callable[[SqlUnitOfWork], S]) -> S:
        # Redis-backed stores need no transaction, as in production; the others a transaction
        # or `reading()`.
        if name not in self.non_transactional and not self._reading:
            self._require_transaction()
        if name not in self.stores:
            raise KeyError(f"the fake unit of work has no store named {name!r}")
        return self.stores[name]  # type: ignore[return-value]

    def record(self, event: EventData, source: str) -> None:
        self._require_transaction()
        self._pending.append((event, source))

    def after_commit(self, action: Callable[[], None]) -> None:
        self._require_transaction()
        self._after.append(action)

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        self._require_transaction()
        snapshot = self._take_snapshot()
        pending, after = len(self._pending), len(self._after)
        try:
            yield
        except BaseException:
            self._restore(snapshot)
            del self._pending[pending:]
            del self._after[after:]
            raise

    # ------------------------------------------------------------ what tests ask

    def event_names(self, key: str | None = None) -> list[str]:
        """The committed events' class names, optionally only those of one aggregate key."""
        return [
            type(event).__name__
            for event, _ in self.events
            if key is None or str(getattr(event, event.key_field)) == key
        ]


# ---------------------------------------------------------------- in-memory stores


class FakePlacingMarks:
    """Checkout's marks of keys being placed (Redis in production: not transactional)."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def mark(self, key: str) -> None:
        self.keys.add(key)

    def marked(self, key: str) -> bool:
        return key in self.keys


class FakeCheckoutStore:
    def __init__(self) -> None:
        self.requests: dict[str, CheckoutRecord] = {}

    def claim(self, key: str, user_id: str, request_hash: str) -> bool:
        if key in self.requests:
            return False
        self.requests[key] = CheckoutRecord(key, user_id, request_hash, None, "claimed")
        return True

    def get(self, key: str) -> CheckoutRecord | None:
        return self.requests.get(key)

    def set_state(self, key: str, state: str, *, order_id: str | None = None) -> None:
        record = self.requests[key]
        self.requests[key] = replace(
            record, state=state, order_id=order_id if order_id is not None else record.order_id
        )


class FakeOrderStore:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.orders: dict[str, Row] = {}
        self.lines: dict[str, list[Row]] = {}
        self.history: list[Row] = []

    def insert_order(self, fields: Mapping[str, Any]) -> None:
        if fields["id"] in self.orders or any(
            o["idempotency_key"] == fields["idempotency_key"] for o in self.orders.values()
        ):
            raise ValueError("duplicate order")  # the primary key and the unique key
        now = self.clock()
        self.orders[fields["id"]] = {
            "allocations": [],
            **fields,
            "created_at": now,
            "updated_at": now,
        }

    def insert_lines(self, order_id: str, lines: Sequence[Mapping[str, Any]]) -> None:
        self.lines.setdefault(order_id, []).extend({"order_id": order_id, **line} for line in lines)

    def add_history(self, order_id: str, entry: HistoryEntry) -> None:
        self.history.append(
            {
                "id": len(self.history) + 1,
                "order_id": order_id,
                "from_status": entry.from_status.value if entry.from_status else None,
                "to_status": entry.to_status.value,
                "reason": entry.reason,
                "actor_id": entry.actor_id,
                "at": self.clock(),
            }
        )

    def get(self, order_id: str, *, lock: bool = False) -> Row | None:
        row = self.orders.get(order_id)
        return copy.deepcopy(row) if row is not None else None

    def set_status(self, order_id: str, status: OrderStatus) -> None:
        self.orders[order_id]["status"] = status.value
        self.orders[order_id]["updated_at"] = self.clock()

    def set_allocations(self, order_id: str, allocations: list[dict[str, Any]]) -> None:
        self.orders[order_id]["allocations"] = copy.deepcopy(allocations)

    def lines_of(self, order_ids: Sequence[str]) -> dict[str, list[Row]]:
        return {
            order_id: sorted(self.lines.get(order_id, []), key=lambda line: line["sku"])
            for order_id in order_ids
        }

    def history_of(self, order_id: str) -> list[Row]:
        return [h for h in self.history if h["order_id"] == order_id]

    def list_orders(
        self,
        *,
        user_id: str | None,
        status: OrderStatus | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Row]:
        rows = [
            o
            for o in self.orders.values()
            if (user_id is None or o["user_id"] == user_id)
            and (status is None or o["status"] == status.value)
            and (after is None or (o["created_at"], o["id"]) < after)
        ]
        rows.sort(key=lambda o: (o["created_at"], o["id"]), reverse=True)
        return copy.deepcopy(rows[:limit])

    def stale_pending(self, before: datetime, limit: int) -> list[str]:
        pending = [
            o
            for o in self.orders.values()
            if o["status"] == OrderStatus.PENDING_PAYMENT.value and o["created_at"] < before
        ]
        pending.sort(key=lambda o: o["created_at"])
        return [o["id"] for o in pending[:limit]]


class FakePaymentStore:
    def __init__(self) -> None:
        self.payments: list[Payment] = []
        self.refunds: list[Row] = []

    def insert(self, payment: Payment) -> None:
        if all(p.idempotency_key != payment.idempotency_key for p in self.payments):
            self.payments.append(payment)

    def of_order(self, order_id: str) -> Payment | None:
        return next((p for p in self.payments if p.order_id == order_id), None)

    def set_status(self, payment_id: str, status: PaymentStatus) -> None:
        self.payments = [p.with_status(status) if p.id == payment_id else p for p in self.payments]

    def add_refund(
        self, refund_id: str, payment: Payment, idempotency_key: str, amount_cents: int
    ) -> None:
        if self.refund_under(idempotency_key) is None:
            self.refunds.append(
                {
                    "id": refund_id,
                    "payment_id": payment.id,
                    "order_id": payment.order_id,
                    "idempotency_key": idempotency_key,
                    "amount_cents": amount_cents,
                }
            )

    def refund_under(self, idempotency_key: str) -> int | None:
        found = [r for r in self.refunds if r["idempotency_key"] == idempotency_key]
        return int(found[0]["amount_cents"]) if found else None

    def refunded_cents(self, payment_id: str) -> int:
        return sum(int(r["amount_cents"]) for r in self.refunds if r["payment_id"] == payment_id)


@dataclass
class _Hold:
    reservation: Reservation
    release_reason: str | None = None


class FakeInventoryStore:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.levels: dict[tuple[str, str], StockLevel] = {}
        self.movement_rows: list[Row] = []
        self.holds: list[_Hold] = []

    # -- what tests set up and read
    def put(self, sku: str, warehouse_id: str, on_hand: int, reserved: int = 0) -> None:
        self.levels[(sku, warehouse_id)] = StockLevel(sku, warehouse_id, on_hand, reserved)

    def level(self, sku: str, warehouse_id: str) -> tuple[int, int]:
        level = self.levels[(sku, warehouse_id)]
        return level.on_hand, level.reserved

    def totals(self, sku: str) -> tuple[int, int]:
        levels = self.levels_of(sku)
        return sum(v.on_hand for v in levels), sum(v.reserved for v in levels)

    # -- StockLedger
    def warehouses_of(self, sku: str) -> list[StockLevel]:
        return self.levels_of(sku)

    def reserve_if_available(self, sku: str, warehouse_id: str, quantity: int) -> StockLevel | None:
        level = self.levels.get((sku, warehouse_id))
        if level is None or level.available < quantity:
            return None
        after = replace(level, reserved=level.reserved + quantity)
        self.levels[(sku, warehouse_id)] = after
        return after

    def lock_level(self, sku: str, warehouse_id: str) -> StockLevel:
        return self.levels[(sku, warehouse_id)]

    # -- InventoryStore
    def levels_of(self, sku: str) -> list[StockLevel]:
        return sorted(
            (v for (s, _), v in self.levels.items() if s == sku), key=lambda v: v.warehouse_id
        )

    def lock_or_create_level(self, sku: str, warehouse_id: str) -> StockLevel:
        return self.levels.setdefault((sku, warehouse_id), StockLevel(sku, warehouse_id))

    def write_level(self, level: StockLevel) -> None:
        self.levels[(level.sku, level.warehouse_id)] = level

    def shift_level(
        self, sku: str, warehouse_id: str, *, on_hand: int, reserved: int
    ) -> StockLevel:
        level = self.levels[(sku, warehouse_id)]
        after = StockLevel(sku, warehouse_id, level.on_hand + on_hand, level.reserved + reserved)
        self.levels[(sku, warehouse_id)] = after
        return after

    def add_movement(self, movement: Movement, actor_id: str | None = None) -> int:
        after = movement.after
        movement_id = len(self.movement_rows) + 1
        self.movement_rows.append(
            {
                "id": movement_id,
                "sku": after.sku,
                "warehouse_id": after.warehouse_id,
                "reason": movement.reason.value,
                "on_hand_delta": movement.on_hand_delta,
                "reserved_delta": movement.reserved_delta,
                "on_hand_after": after.on_hand,
                "reserved_after": after.reserved,
                "order_id": movement.order_id,
                "reference": movement.reference,
                "note": movement.note,
                "actor_id": actor_id,
                "created_at": self.clock(),
            }
        )
        return movement_id

    def movements(self, sku: str, *, limit: int, before_id: int | None) -> list[Row]:
        rows = [
            m
            for m in reversed(self.movement_rows)
            if m["sku"] == sku and (before_id is None or m["id"] < before_id)
        ]
        return rows[:limit]

    def has_reservations(self, order_id: str) -> bool:
        return any(h.reservation.order_id == order_id for h in self.holds)

    def insert_reservations(self, reservations: Sequence[Reservation]) -> None:
        self.holds.extend(_Hold(r) for r in reservations)

    def reservations_of(
        self, order_id: str, *, status: ReservationStatus | None = None, lock: bool = False
    ) -> list[Reservation]:
        found = [
            h.reservation
            for h in self.holds
            if h.reservation.order_id == order_id
            and (status is None or h.reservation.status is status)
        ]
        return sorted(found, key=lambda r: (r.sku, r.warehouse_id))

    def settle_reservations(
        self, order_id: str, status: ReservationStatus, reason: str | None
    ) -> None:
        for hold in self.holds:
            r = hold.reservation
            if r.order_id == order_id and r.status is ReservationStatus.HELD:
                hold.reservation = replace(r, status=status)
                hold.release_reason = reason

    def expired_orders(self, now: datetime, limit: int) -> list[str]:
        first_expiry: dict[str, datetime] = {}
        for hold in self.holds:
            r = hold.reservation
            if r.status is ReservationStatus.HELD and r.expires_at <= now:
                first_expiry[r.order_id] = min(
                    first_expiry.get(r.order_id, r.expires_at), r.expires_at
                )
        return sorted(first_expiry, key=lambda order_id: first_expiry[order_id])[:limit]

    def available_totals(self, skus: Sequence[str] | None = None) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (sku, _), level in self.levels.items():
            if skus is None or sku in skus:
                totals[sku] = totals.get(sku, 0) + level.available
        return totals


class FakeCatalogView:
    """What inventory reads of the catalog: SKU → status."""

    def __init__(self) -> None:
        self.statuses: dict[str, str] = {}

    def status_of(self, sku: str) -> str | None:
        return self.statuses.get(sku)


class FakeOwnedSkus:
    """The owned-SKUs cache in 'Redis': not part of any transaction; remembers what it forgot."""

    def __init__(self) -> None:
        self.cached: dict[str, set[str]] = {}
        self.forgotten: list[str] = []

    def get(self, user_id: str) -> set[str] | None:
        return self.cached.get(user_id)

    def put(self, user_id: str, skus: set[str]) -> None:
        self.cached[user_id] = set(skus)

    def forget(self, user_id: str) -> None:
        self.cached.pop(user_id, None)
        self.forgotten.append(user_id)


class FakeCarts:
    """Carts in 'Redis': not part of any transaction."""

    def __init__(self) -> None:
        self.carts: dict[str, CartState] = {}
        self.taken: list[str] = []

    def put(
        self, cart_id: str, lines: Sequence[tuple[str, int]], coupon: str | None = None
    ) -> None:
        self.carts[cart_id] = CartState(
            version=1, lines=[CartLine(sku, quantity) for sku, quantity in lines], coupon=coupon
        )

    def read(self, cart_id: str) -> CartState:
        return self.carts.get(cart_id, CartState())

    def take(self, cart_id: str) -> CartState:
        self.taken.append(cart_id)
        return self.carts.pop(cart_id, CartState())


class FakeCheckoutPricing:
    def __init__(self) -> None:
        self.catalog: dict[str, ProductPublic] = {}
        self.promotions: list[Row] = []
        # (coupon code, holder) → the order that consumed the claim, or None while unused
        self.claims: dict[tuple[str, str], str | None] = {}

    def products(self, skus: Sequence[str]) -> dict[str, ProductPublic]:
        return {sku: self.catalog[sku] for sku in skus if sku in self.catalog}

    def promotions_for_quote(
        self, *, scope_keys: Sequence[str], coupon_code: str | None, now: datetime
    ) -> list[Row]:
        return [
            p
            for p in self.promotions
            if p["coupon_code"] is None or p["coupon_code"] == coupon_code
        ]

    def hold_coupon(self, code: str, holder: str, order_id: str) -> str:
        promotion = next((p for p in self.promotions if p["coupon_code"] == code), None)
        limit = promotion.get("usage_limit") if promotion else None
        used = sum(1 for (c, _), order in self.claims.items() if c == code and order)
        if limit is not None and used >= limit:
            return "exhausted"
        if self.claims.get((code, holder)) is not None:
            return "already_used"
        self.claims[(code, holder)] = order_id
        return "held"

    def release_coupon_hold(self, order_id: str) -> None:
        for claim, order in self.claims.items():
            if order == order_id:
                self.claims[claim] = None


class FakeOrderArchive:
    """Archived orders in memory (the Delta archive in production): not transactional."""

    def __init__(self) -> None:
        self.orders: dict[str, ArchivedOrder] = {}

    def put(self, order: Row, **rows: list[Row]) -> None:
        self.orders[order["id"]] = ArchivedOrder(dict(order), {k: list(v) for k, v in rows.items()})

    def order(self, order_id: str) -> ArchivedOrder | None:
        return self.orders.get(order_id)

    def orders_of(
        self, user_id: str, *, limit: int, before: tuple[datetime, str] | None
    ) -> list[Row]:
        rows = [
            a.order
            for a in self.orders.values()
            if a.order["user_id"] == user_id
            and (before is None or (a.order["created_at"], a.order["id"]) < before)
        ]
        rows.sort(key=lambda o: (o["created_at"], o["id"]), reverse=True)
        return copy.deepcopy(rows[:limit])

    def lines_of(self, order_ids: Sequence[str]) -> dict[str, list[Row]]:
        return {
            order_id: sorted(self.orders[order_id].of("order_lines"), key=lambda r: r["sku"])
            for order_id in order_ids
        }


_SHIPMENT_COLUMNS: Row = {
    "carrier": None,
    "tracking_number": None,
    "tracking_url": None,
    "label_path": None,
    "weight_g": None,
    "length_mm": None,
    "width_mm": None,
    "height_mm": None,
    "attempts": 0,
    "last_scan_seq": 0,
    "picked_at": None,
    "packed_at": None,
    "shipped_at": None,
    "delivered_at": None,
    "cancelled_at": None,
}


class FakeShipmentStore:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.inbox: dict[str, Row] = {}
        self.shipments: dict[str, Row] = {}
        self.lines: dict[str, list[Row]] = {}
        self.scans: dict[str, list[Row]] = {}

    def claim_event(self, event_id: str, event_type: str, order_id: str) -> bool:
        if event_id in self.inbox:
            return False
        self.inbox[event_id] = {"event_type": event_type, "order_id": order_id, "outcome": ""}
        return True

    def set_outcome(self, event_id: str, outcome: str) -> None:
        self.inbox[event_id]["outcome"] = outcome

    def insert(self, shipment: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> None:
        if any(
            s["order_id"] == shipment["order_id"] and s["warehouse_id"] == shipment["warehouse_id"]
            for s in self.shipments.values()
        ):
            raise ValueError("duplicate shipment")  # the unique (order, warehouse)
        now = self.clock()
        self.shipments[shipment["id"]] = {
            **_SHIPMENT_COLUMNS,
            **shipment,
            "created_at": now,
            "updated_at": now,
        }
        self.lines[shipment["id"]] = [dict(line) for line in lines]

    def get(self, shipment_id: str, *, lock: bool = False) -> Row | None:
        row = self.shipments.get(shipment_id)
        return copy.deepcopy(row) if row is not None else None

    def of_order(self, order_id: str, *, lock: bool = False) -> list[Row]:
        rows = [s for s in self.shipments.values() if s["order_id"] == order_id]
        return copy.deepcopy(sorted(rows, key=lambda s: s["warehouse_id"]))

    def lines_of(self, shipment_ids: Sequence[str]) -> dict[str, list[Row]]:
        return {
            i: sorted(copy.deepcopy(self.lines.get(i, [])), key=lambda r: r["sku"])
            for i in shipment_ids
        }

    def scans_of(self, shipment_ids: Sequence[str]) -> dict[str, list[Row]]:
        return {
            i: sorted(copy.deepcopy(self.scans.get(i, [])), key=lambda r: r["seq"])
            for i in shipment_ids
        }

    def update(self, shipment_id: str, changes: Mapping[str, Any]) -> None:
        row = self.shipments[shipment_id]
        for name, value in changes.items():
            row[name] = self.clock() if name.endswith("_at") and value is True else value
        row["updated_at"] = self.clock()

    def add_scans(self, shipment_id: str, scans: Sequence[Scan]) -> None:
        known = self.scans.setdefault(shipment_id, [])
        seen = {row["seq"] for row in known}
        known.extend(
            {"seq": s.seq, "status": s.status.value, "location": s.location, "at": s.at}
            for s in scans
            if s.seq not in seen
        )

    def waiting(
        self, warehouse_id: str, *, limit: int, after: tuple[datetime, str] | None
    ) -> list[Row]:
        rows = [
            s
            for s in self.shipments.values()
            if s["warehouse_id"] == warehouse_id
            and s["status"] == ShipmentStatus.CREATED.value
            and (after is None or (s["created_at"], s["id"]) > after)
        ]
        rows.sort(key=lambda s: (s["created_at"], s["id"]))
        return copy.deepcopy(rows[:limit])

    def with_carrier(self, *, limit: int, after_id: str | None) -> list[Row]:
        carrier_phases = {"SHIPPED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "FAILED_ATTEMPT"}
        rows = sorted(
            (
                s
                for s in self.shipments.values()
                if s["status"] in carrier_phases and (after_id is None or s["id"] > after_id)
            ),
            key=lambda s: s["id"],
        )
        return copy.deepcopy(rows[:limit])


class FakeCarrier:
    """A carrier whose scans the test scripts: `script(tracking_number, *statuses)`."""

    name = "fake-carrier"

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.registered: dict[str, str] = {}  # shipment id → tracking number
        self.handed_over: list[str] = []
        self.journeys: dict[str, list[Scan]] = {}

    def register(self, request: ParcelRequest) -> Registration:
        number = self.registered.setdefault(
            request.shipment_id, f"FK{len(self.registered) + 1:08d}XX"
        )
        return Registration(self.name, number, f"https://track.example/{number}")

    def hand_over(self, tracking_number: str) -> None:
        if tracking_number not in self.handed_over:
            self.handed_over.append(tracking_number)

    def scans(self, tracking_number: str) -> list[Scan]:
        return list(self.journeys.get(tracking_number, []))

    def script(self, tracking_number: str, *statuses: ShipmentStatus) -> None:
        """Add scans with these statuses to the parcel's journey."""
        journey = self.journeys.setdefault(tracking_number, [])
        for status in statuses:
            journey.append(Scan(len(journey) + 1, status, "Testville", self.clock()))


class FakeReturnStore:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.returns: dict[str, Row] = {}
        self.lines: dict[str, list[Row]] = {}

    def insert(self, fields: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> None:
        now = self.clock()
        self.returns[fields["id"]] = {
            "refund_cents": None,
            "payment_id": None,
            "received_by": None,
            "refunded_by": None,
            "received_at": None,
            "refunded_at": None,
            **fields,
            "created_at": now,
            "updated_at": now,
        }
        self.lines[fields["id"]] = [
            {"return_id": fields["id"], "disposition": None, "warehouse_id": None, **line}
            for line in lines
        ]

    def get(self, return_id: str, *, lock: bool = False) -> Row | None:
        row = self.returns.get(return_id)
        return copy.deepcopy(row) if row is not None else None

    def of_order(self, order_id: str) -> list[Row]:
        rows = [r for r in self.returns.values() if r["order_id"] == order_id]
        return copy.deepcopy(sorted(rows, key=lambda r: (r["created_at"], r["id"])))

    def lines_of(self, return_ids: Sequence[str]) -> dict[str, list[Row]]:
        return {
            i: sorted(copy.deepcopy(self.lines.get(i, [])), key=lambda r: r["sku"])
            for i in return_ids
        }

    def update(self, return_id: str, changes: Mapping[str, Any]) -> None:
        row = self.returns[return_id]
        for name, value in changes.items():
            row[name] = self.clock() if name.endswith("_at") and value is True else value
        row["updated_at"] = self.clock()

    def set_disposition(
        self, return_id: str, sku: str, disposition: str, warehouse_id: str
    ) -> None:
        for line in self.lines[return_id]:
            if line["sku"] == sku:
                line.update(disposition=disposition, warehouse_id=warehouse_id)

    def listing(
        self, *, status: str | None, limit: int, after: tuple[datetime, str] | None
    ) -> list[Row]:
        rows = [
            r
            for r in self.returns.values()
            if (status is None or r["status"] == status)
            and (after is None or (r["created_at"], r["id"]) > after)
        ]
        rows.sort(key=lambda r: (r["created_at"], r["id"]))
        return copy.deepcopy(rows[:limit])


# ---------------------------------------------------------------- test data


def make_product(
    sku: str, price_cents: int = 2500, status: ProductStatus = "active"
) -> ProductPublic:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return ProductPublic(
        sku=sku,
        name=f"Product {sku}",
        description="",
        brand="Acme",
        category_path=["kitchen"],
        price_cents=price_cents,
        currency="EUR",
        attributes={},
        image_urls=[],
        status=status,
        version=1,
        created_at=now,
        updated_at=now,
    )


def coupon_promotion(code: str, percent: int) -> Row:
    """A coupon's promotion row as pricing's store returns it."""
    return {
        "id": f"promo-{code}",
        "name": f"{percent}% with {code}",
        "kind": "percentage",
        "value": percent * 100,
        "scope": "cart",
        "scope_values": [],
        "starts_at": datetime(2026, 1, 1, tzinfo=UTC),
        "ends_at": None,
        "currency": None,
        "coupon_code": code,
        "stackable": True,
        "priority": 0,
        "active": True,
    }


@dataclass
class MoneyPaths:
    """A fake unit of work with every money-path store, and handles on each of them."""

    uow: FakeUnitOfWork
    clock: Clock
    checkout: FakeCheckoutStore
    orders: FakeOrderStore
    payments: FakePaymentStore
    inventory: FakeInventoryStore
    catalog: FakeCatalogView
    carts: FakeCarts
    pricing: FakeCheckoutPricing
    archive: FakeOrderArchive
    shipments: FakeShipmentStore
    carrier: FakeCarrier
    returns: FakeReturnStore
    owned: FakeOwnedSkus

    def sell(self, sku: str, *, units: dict[str, int], price_cents: int = 2500) -> None:
        """A product in the catalog with `units` on hand per warehouse."""
        self.pricing.catalog[sku] = make_product(sku, price_cents)
        self.catalog.statuses[sku] = "active"
        for warehouse_id, on_hand in units.items():
            self.inventory.put(sku, warehouse_id, on_hand)


def money_paths(gateway: PaymentGateway, settings: Settings | None = None) -> MoneyPaths:
    clock = Clock()
    parts = {
        "checkout": FakeCheckoutStore(),
        "checkout.placing": FakePlacingMarks(),
        "orders": FakeOrderStore(clock),
        "payments": FakePaymentStore(),
        "inventory": FakeInventoryStore(clock),
        "inventory.catalog": FakeCatalogView(),
        "cart": FakeCarts(),
        "pricing": FakeCheckoutPricing(),
        "archive": FakeOrderArchive(),
        "fulfilment": FakeShipmentStore(clock),
        "fulfilment.carrier": FakeCarrier(clock),
        "returns": FakeReturnStore(clock),
        "orders.owned": FakeOwnedSkus(),
    }
    uow = FakeUnitOfWork(
        gateway=gateway,
        settings=settings or Settings(_env_file=None, stock_gate_enabled=False),
        stores={**parts, "inventory.gate": None},
        non_transactional=(
            "cart",
            "checkout.placing",
            "inventory.gate",
            "archive",
            "fulfilment.carrier",
            "orders.owned",
        ),
        shared=(clock,),
    )
    return MoneyPaths(
        uow,
        clock,
        parts["checkout"],  # type: ignore[arg-type]
        parts["orders"],  # type: ignore[arg-type]
        parts["payments"],  # type: ignore[arg-type]
        parts["inventory"],  # type: ignore[arg-type]
        parts["inventory.catalog"],  # type: ignore[arg-type]
        parts["cart"],  # type: ignore[arg-type]
        parts["pricing"],  # type: ignore[arg-type]
        parts["archive"],  # type: ignore[arg-type]
        parts["fulfilment"],  # type: ignore[arg-type]
        parts["fulfilment.carrier"],  # type: ignore[arg-type]
        parts["returns"],  # type: ignore[arg-type]
        parts["orders.owned"],  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------- the real unit, for tests


@contextlib.contextmanager
def sql_unit(engine: Engine, *, gate: object | None = None) -> Iterator[SqlUnitOfWork]:
    """One transaction on the real database, committed when the block ends without error
    (as `engine.begin()` would); inventory calls in it use `gate` (None: no gate)."""
    uow = SqlUnitOfWork(engine, stores={"inventory.gate": gate})
    with uow:
        yield uow
        uow.commit()
