"""The history's days, simulated as the platform would have lived them.

A discrete-event simulation: every shopper session, order life cycle, stock delivery and price
change is a generator that yields how long it waits before its next step, and one clock runs them
all in time order, so stock levels and order states are always those of the moment. The rules of
the platform are the platform's own: the pricing engine prices every checkout, the inventory
domain turns each stock movement into its events, the order aggregate each status change. Each day
draws from a generator seeded by (seed, day), so a longer history begins with the same days.

Nothing is written here: events, stock movements and status changes go to a `Sink`, and the
final state of the entities (users, products, orders, payments, stock levels) is on the
`Simulation` when `run` returns.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import numpy as np

from demo.history.calendar import holiday, traffic_factor
from demo.history.world import (
    COMPLEMENT_PROBABILITY,
    SEGMENTS,
    Product,
    Promotion,
    Shopper,
    World,
    new_uuid,
)
from serving.accounts.service import SOURCE as ACCOUNTS
from serving.cart.service import SOURCE as CART
from serving.cart.service import user_cart_id
from serving.catalog.service import SOURCE as CATALOG
from serving.checkout.service import SOURCE as CHECKOUT
from serving.inventory.domain import Movement, MovementReason, StockLevel, events_of
from serving.inventory.service import SOURCE as INVENTORY
from serving.orders.domain import Order, OrderStatus
from serving.orders.service import SOURCE as ORDERS
from serving.payments.service import SOURCE as PAYMENTS
from serving.pricing import engine
from serving.pricing.service import SOURCE as PRICING
from serving.wishlist.service import SOURCE as WISHLIST
from shoplake.events import CloudEvent, EventData
from shoplake.events.behaviour import ProductViewed, RecommendationClicked, SearchPerformed
from shoplake.events.cart import CartCheckedOut, CartItemAdded, CartItemRemoved
from shoplake.events.catalog import PriceChanged, ProductCreated
from shoplake.events.order import OrderLine, OrderPlaced
from shoplake.events.payment import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    PaymentRefunded,
    PaymentVoided,
)
from shoplake.events.pricing import PromotionCreated
from shoplake.events.user import UserRegistered
from shoplake.events.wishlist import WishlistItemAdded

BEHAVIOUR = "/serving/behaviour"
SEARCH = "/serving/search"
CURRENCY = "EUR"
GATEWAY = "sandbox"
MS = timedelta(milliseconds=1)
# Relative traffic per hour of the day (UTC): quiet nights, a lunch bump, an evening peak.
_HOURLY: tuple[float, ...] = (0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 0.9, 1.0, 1.0, 1.0)
_HOURLY += (1.1, 1.1, 1.0, 1.0, 1.1, 1.2, 1.4, 1.6, 1.7, 1.5, 1.0, 0.6)
HOURS = np.array(_HOURLY) / sum(_HOURLY)
ZERO_RESULT_QUERIES = ("xyzzy", "lego", "laptop", "vinyl records", "red dress", "usb c cable")
BASE_ADD_TO_CART = 0.085
CHECKOUT_PROBABILITY = 0.5
DECLINE_PROBABILITY = 0.03
CANCEL_PROBABILITY = 0.02
# The share of delivered orders sent back, per top-level category (sizes make apparel worst).
RETURN_PROBABILITY = {"apparel": 0.15, "shoes": 0.12, "outdoor": 0.06, "electronics": 0.05}
RETURN_PROBABILITY_DEFAULT = 0.04
LEAD_TIME_DAYS = (5, 9)
COVER_DAYS = 30

Wait = Generator[timedelta, None, None]  # a process: yields how long until its next step


class Fact:
    """What every event of one type shares, worked out once: its CloudEvents type, schema and
    key field, and its data's fields in the order the model dumps them, with their defaults.

    `data` builds the event's data as `model(**values).model_dump(mode="json")` would, without
    validating it again: for the simulation's own values, which are of the contract's JSON
    types and within its bounds by construction (the unit tests validate every event of a
    history against its model)."""

    __slots__ = ("_fields", "dataschema", "key_field", "model", "type")

    def __init__(self, model: type[EventData]) -> None:
        self.model = model
        self.type = model.event_type()
        self.dataschema = model.schema_id()
        self.key_field = model.key_field
        # (name, required, default, default factory), in the model's field order.
        self._fields = tuple(
            (name, info.is_required(), info.default, info.default_factory)
            for name, info in model.model_fields.items()
        )

    def data(self, values: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, required, default, factory in self._fields:
            if name in values:
                data[name] = values[name]
            elif required:
                raise TypeError(f"{self.model.__name__} needs {name}")
            else:
                data[name] = factory() if factory is not None else default  # type: ignore[call-arg]
        return data


_FACTS: dict[type[EventData], Fact] = {}


def fact_of(model: type[EventData]) -> Fact:
    fact = _FACTS.get(model)
    if fact is None:
        fact = _FACTS[model] = Fact(model)
    return fact


_ENVELOPE_FIELDS = frozenset(("id", "source", "type", "time", "subject", "dataschema", "data"))


def envelope(
    event_id: str, source: str, fact: Fact, subject: str, data: dict[str, Any], at: datetime
) -> CloudEvent:
    """The CloudEvent `fact.model(**data).to_event(source, event_id=..., time=...)` gives, built
    as `CloudEvent.model_construct` builds one (without validating again) for attributes that
    are valid by construction: a registered type, a non-empty id, source and subject, a time in
    UTC. The unit tests validate every event of a history."""
    event = CloudEvent.__new__(CloudEvent)
    values = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": fact.type,
        "time": at,
        "subject": subject,
        "datacontenttype": "application/json",
        "dataschema": fact.dataschema,
        "data": data,
    }
    object.__setattr__(event, "__dict__", values)
    object.__setattr__(event, "__pydantic_fields_set__", set(_ENVELOPE_FIELDS))
    object.__setattr__(event, "__pydantic_extra__", None)
    object.__setattr__(event, "__pydantic_private__", None)
    return event


# The events of every session and checkout, built from their values (`Simulation.emit_fact`).
PRODUCT_VIEWED = fact_of(ProductViewed)
SEARCH_PERFORMED = fact_of(SearchPerformed)
RECOMMENDATION_CLICKED = fact_of(RecommendationClicked)
CART_ITEM_ADDED = fact_of(CartItemAdded)
CART_ITEM_REMOVED = fact_of(CartItemRemoved)
CART_CHECKED_OUT = fact_of(CartCheckedOut)
USER_REGISTERED = fact_of(UserRegistered)
WISHLIST_ITEM_ADDED = fact_of(WishlistItemAdded)
PAYMENT_AUTHORIZED = fact_of(PaymentAuthorized)
PAYMENT_DECLINED = fact_of(PaymentDeclined)
PAYMENT_CAPTURED = fact_of(PaymentCaptured)
PAYMENT_VOIDED = fact_of(PaymentVoided)
PAYMENT_REFUNDED = fact_of(PaymentRefunded)


class Sink(Protocol):
    """Where a simulation's facts go, in the order they happen."""

    def event(self, event: CloudEvent, *, outbox: bool) -> None: ...
    def movement(self, row: dict[str, Any]) -> None: ...
    def status_change(self, row: dict[str, Any]) -> None: ...
    def day_done(self, day: date, days_total: int) -> None: ...


@dataclass
class PaymentState:
    payment_id: str
    idempotency_key: str
    reference: str
    status: str
    amount_cents: int
    created_at: datetime
    updated_at: datetime


@dataclass
class OrderState:
    """An order as Postgres holds it, with the rows of its lines, payment and reservations."""

    aggregate: Order
    created_at: datetime
    updated_at: datetime
    subtotal_cents: int
    discount_cents: int
    coupon_code: str | None
    shipping_address: dict[str, str]
    lines: list[dict[str, Any]]
    checkout_state: str = "authorizing"
    allocations: list[dict[str, Any]] = field(default_factory=list)
    reservations: list[dict[str, Any]] = field(default_factory=list)
    payment: PaymentState | None = None


@dataclass
class Counts:
    """What happened, for the summary and the ground truth."""

    events: Counter[str] = field(default_factory=Counter)
    skipped_events: int = 0  # before the window being written (extending a history)
    sessions: int = 0
    anonymous_sessions: int = 0
    orders: int = 0
    abandoned_checkouts: int = 0
    lost_demand: Counter[str] = field(default_factory=Counter)  # sku -> wanted while sold out
    stockout_days: Counter[str] = field(default_factory=Counter)  # sku -> days ending at 0

    @property
    def interactions(self) -> int:
        behaviour = ("ProductViewed", "SearchPerformed", "RecommendationClicked")
        carts = ("CartItemAdded", "CartItemRemoved", "CartCheckedOut", "WishlistItemAdded")
        return sum(n for t, n in self.events.items() if t.split(".")[2] in behaviour + carts)


class Simulation:
    """Runs a world from before its start (catalog, stock, early sign-ups) to its end."""

    def __init__(
        self,
        world: World,
        sink: Sink,
        *,
        end: datetime | None = None,
        emit_from: datetime | None = None,
    ) -> None:
        """`end` beyond the world's end extends its history; `emit_from` writes only what
        happens from then on (the days a previous run wrote are simulated again, unwritten)."""
        self.world = world
        self.params = world.params
        self.sink = sink
        self.end = end or self.params.end
        self.emit_from = emit_from or datetime.min.replace(tzinfo=self.end.tzinfo)
        self.now = self.params.start - timedelta(days=150)
        self._step_at = self.now  # when the running step began: it decides what is written
        self._heap: list[tuple[datetime, int, Wait]] = []
        self._seq = itertools.count()
        self.rng = random.Random(f"setup:{self.params.seed}")  # noqa: S311 - simulated data
        self.np = np.random.default_rng([self.params.seed, 0])
        self.counts = Counts()
        self.levels: dict[tuple[str, str], StockLevel] = {}
        self.on_order: Counter[str] = Counter()
        self.sales: dict[str, deque[int]] = defaultdict(lambda: deque(maxlen=14))
        self.sold_today: Counter[str] = Counter()
        self.carts: dict[str, dict[str, int]] = defaultdict(dict)
        self.orders: dict[str, OrderState] = {}
        self.customers_with_orders: set[str] = set()
        self.wishlists: dict[tuple[str, str], datetime] = {}
        self.coupon_claims: list[dict[str, Any]] = []
        self.registered: list[Shopper] = []
        self.product_changed_at: dict[str, datetime] = {}
        self.product_created_at: dict[str, datetime] = {}
        self.po_number = itertools.count(1)
        self.engine_promotions = [_engine_promotion(p) for p in world.promotions]
        self.welcome = next(p for p in world.promotions if p.coupon_code)
        self.expected_daily = self._expected_daily_units()
        self.cart_touched: dict[str, datetime] = {}
        self._query_results: dict[tuple[tuple[str, ...], str], int] = {}
        self.by_category: dict[tuple[str, ...], list[Product]] = defaultdict(list)
        for product in world.products:
            self.by_category[product.category].append(product)
        # Per segment and category: the products and the cumulative chance of viewing each,
        # for the views that follow a search.
        # As lists: a view's pick bisects them (what np.searchsorted would find, per call in
        # a fraction of its time).
        self.category_cdf: dict[tuple[int, tuple[str, ...]], list[float]] = {}
        index = {p.sku: i for i, p in enumerate(world.products)}
        for s in range(len(SEGMENTS)):
            pdf = np.diff(world.view_cdf[s], prepend=0.0)
            for category, members in self.by_category.items():
                weights = pdf[[index[p.sku] for p in members]]
                self.category_cdf[(s, category)] = np.cumsum(weights / weights.sum()).tolist()
        self.view_cdf: list[list[float]] = [row.tolist() for row in world.view_cdf]
        # Per product, the keys of its stock levels, in warehouse order.
        self.stock_keys: dict[str, list[tuple[str, str]]] = {
            p.sku: [(p.sku, w) for w in p.warehouses] for p in world.products
        }
        # Per segment, the categories searched for and their cumulative weights (what
        # `random.choices` sums from the weights on every call).
        self.segment_categories: list[tuple[tuple[tuple[str, ...], ...], list[float]]] = [
            (tuple(s.categories), list(itertools.accumulate(s.categories.values())))
            for s in SEGMENTS
        ]
        # Per product, the promotions that can badge it (not the cart's), in the world's order.
        self.badges: dict[str, list[Promotion]] = {
            product.sku: [p for p in world.promotions if p.scope != "cart" and p.covers(product)]
            for product in world.products
        }

    # ------------------------------------------------------------------ the clock

    def at(self, when: datetime, process: Wait) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), process))

    def _run_until(self, limit: datetime) -> None:
        heap, seq, pop, push = self._heap, self._seq, heapq.heappop, heapq.heappush
        while heap and heap[0][0] < limit:
            when, _, process = pop(heap)
            self.now = self._step_at = when
            try:
                wait = next(process)
            except StopIteration:
                continue
            push(heap, (self.now + wait, next(seq), process))  # as `at` would

    def run(self, on_day: Callable[[date], None] | None = None) -> Counts:
        """Simulate every day up to the end; `on_day` is told as each day finishes."""
        self._setup()
        self._run_until(self.params.start)
        day = self.params.start.date()
        index = 0
        while True:
            begins = max(self.params.start, datetime.combine(day, time(), self.end.tzinfo))
            if begins >= self.end:
                break
            midnight = datetime.combine(day + timedelta(days=1), time(), self.end.tzinfo)
            self.rng = random.Random(f"day:{self.params.seed}:{day.isoformat()}")  # noqa: S311
            self.np = np.random.default_rng([self.params.seed, day.toordinal()])
            self._plan_day(day, begins, min(midnight, self.end), index)
            self._run_until(min(midnight, self.end))
            self._close_day(day)
            self.sink.day_done(day, self.params.days + 1)
            if on_day is not None:
                on_day(day)
            day += timedelta(days=1)
            index += 1
        return self.counts

    # ------------------------------------------------------------------ emitting facts

    @property
    def writing(self) -> bool:
        """Whether the running step is inside the window being written (a step that began
        before it was written by the history this one extends, all its facts with it)."""
        return self.emit_from <= self._step_at < self.end

    def emit(self, data: EventData, source: str, *, outbox: bool = True) -> None:
        """The event at the current time (then the clock moves a millisecond, as a transaction's
        next statement would); written only inside the window being written."""
        event_id = new_uuid(self.rng)
        if self.emit_from <= self._step_at < self.end:
            fact = fact_of(type(data))
            self._send(fact, data.model_dump(mode="json"), source, event_id, outbox)
        else:
            self.counts.skipped_events += 1
        self.now += MS

    def emit_fact(
        self, fact: Fact, values: dict[str, Any], source: str, *, outbox: bool = True
    ) -> None:
        """`emit` for an event of the simulation's own values (see `Fact.data`): the same
        event, without building its model to dump it again."""
        event_id = new_uuid(self.rng)
        if self.emit_from <= self._step_at < self.end:
            self._send(fact, fact.data(values), source, event_id, outbox)
        else:
            self.counts.skipped_events += 1
        self.now += MS

    def _send(
        self, fact: Fact, data: dict[str, Any], source: str, event_id: str, outbox: bool
    ) -> None:
        now = self.now if self.now.tzinfo is UTC else self.now.astimezone(UTC)
        event = envelope(event_id, source, fact, str(data[fact.key_field]), data, now)
        self.sink.event(event, outbox=outbox)
        self.counts.events[fact.type] += 1

    def _movement(self, movement: Movement, actor_id: str | None = None) -> None:
        after = movement.after
        self.levels[(after.sku, after.warehouse_id)] = after
        for data in events_of(movement):
            self.emit(data, INVENTORY)
        if self.writing:
            self.sink.movement(
                {
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
                    "created_at": self.now,
                }
            )

    def _save(self, state: OrderState) -> None:
        """The order's collected history rows and events, as orders.service.save writes them."""
        order = state.aggregate
        for entry in order.history:
            if self.writing:
                self.sink.status_change(
                    {
                        "order_id": order.id,
                        "from_status": entry.from_status.value if entry.from_status else None,
                        "to_status": entry.to_status.value,
                        "reason": entry.reason,
                        "actor_id": entry.actor_id,
                        "at": self.now,
                    }
                )
        for event in order.events:
            self.emit(event, ORDERS)
        order.history.clear()
        order.events.clear()
        state.updated_at = self.now

    # ------------------------------------------------------------------ before the first day

    def _expected_daily_units(self) -> dict[str, float]:
        """A prior of each product's daily sales, from its share of attention: the first
        orders of stock and the floor of the replenishment policy."""
        shares = np.zeros(len(self.world.products))
        for s, segment in enumerate(SEGMENTS):
            pdf = np.diff(self.world.view_cdf[s], prepend=0.0)
            shares += segment.share * pdf
        sessions = self.params.users * self.params.session_rate * 0.75
        units = sessions * 0.14
        return {
            p.sku: float(units * share)
            for p, share in zip(self.world.products, shares, strict=True)
        }

    def _setup(self) -> None:
        start = self.params.start
        for promotion in self.world.promotions:
            self.at(promotion.created_at, self._create_promotion(promotion))
        self.at(start - timedelta(days=2), self._create_catalog())
        self.at(start - timedelta(days=1), self._first_stock())
        for shopper in self.world.shoppers:
            if shopper.registered_at < self.end:
                self.at(shopper.registered_at, self._register(shopper))
        for change in self.world.price_changes:
            if change.at < self.end:
                self.at(change.at, self._change_price(change.sku, change.new_price_cents))

    def _create_promotion(self, promotion: Promotion) -> Wait:
        self.emit(
            PromotionCreated(
                promotion_id=promotion.promotion_id,
                name=promotion.name,
                kind=promotion.kind,
                value=promotion.value,
                currency=CURRENCY if promotion.kind == "fixed" else None,
                scope=promotion.scope,
                scope_values=list(promotion.scope_values),
                starts_at=promotion.starts_at,
                ends_at=promotion.ends_at,
                coupon_code=promotion.coupon_code,
                stackable=True,
                priority=0,
                active=True,
            ),
            PRICING,
        )
        yield from ()

    def _create_catalog(self) -> Wait:
        for product in self.world.products:
            self.emit(
                ProductCreated(
                    sku=product.sku,
                    version=1,
                    name=product.name,
                    description=product.description,
                    brand=product.brand,
                    category_path=list(product.category),
                    price_cents=product.base_price_cents,
                    currency=CURRENCY,
                    status="active",
                    attributes=product.attributes,
                    image_urls=[f"https://img.shoplake.dev/{product.sku}.jpg"],
                ),
                CATALOG,
            )
            self.product_created_at[product.sku] = self.product_changed_at[product.sku] = self.now
            yield timedelta(seconds=2)

    def _first_stock(self) -> Wait:
        for product in self.world.products:
            units = max(5, math.ceil(self.expected_daily[product.sku] * COVER_DAYS))
            self._receive(product, units, f"PO-{self.params.prefix}-{next(self.po_number):06d}")
            yield timedelta(seconds=1)

    def _receive(self, product: Product, units: int, reference: str) -> None:
        """A delivery: 70% into the first warehouse, the rest into the second if it has one."""
        split = (
            [(product.warehouses[0], units)]
            if len(product.warehouses) == 1 or units < 4
            else [
                (product.warehouses[0], units * 7 // 10),
                (product.warehouses[1], units * 3 // 10),
            ]
        )
        for warehouse, quantity in split:
            if quantity <= 0:
                continue
            before = self.levels.get((product.sku, warehouse), StockLevel(product.sku, warehouse))
            self._movement(
                Movement(
                    MovementReason.RECEIPT, before, before.received(quantity), reference=reference
                )
            )

    def _register(self, shopper: Shopper) -> Wait:
        self.emit_fact(
            USER_REGISTERED,
            {
                "user_id": shopper.user_id,
                "email": shopper.email,
                "role": "customer",
                "country": shopper.country,
            },
            ACCOUNTS,
        )
        self.registered.append(shopper)
        yield from ()

    def _change_price(self, sku: str, new_price: int) -> Wait:
        product = self.world.by_sku[sku]
        old, product.price_cents = product.price_cents, new_price
        product.version += 1
        self.emit(
            PriceChanged(
                sku=sku,
                version=product.version,
                old_price_cents=old,
                new_price_cents=new_price,
                currency=CURRENCY,
            ),
            CATALOG,
        )
        self.product_changed_at[sku] = self.now
        yield from ()

    # ------------------------------------------------------------------ a day

    def _plan_day(self, day: date, begins: datetime, ends: datetime, index: int) -> None:
        factor = traffic_factor(day, index / max(1, self.params.days))
        peak = holiday(day)
        eager = 1.15 if peak and peak[1] > 1.3 else 1.0
        shoppers = [s for s in self.registered if s.registered_at < begins]
        rates = np.array([s.activity for s in shoppers]) * self.params.session_rate * factor
        counts = self.np.poisson(rates) if shoppers else np.array([], dtype=int)
        starts: list[tuple[datetime, Shopper | None]] = []
        visiting = [(shopper, n) for shopper, n in zip(shoppers, counts.tolist(), strict=True) if n]
        # One draw of the hours for all of them: the same numbers as one draw each.
        hours = self._session_hours(len(visiting))
        for (shopper, n), hour in zip(visiting, hours, strict=True):
            first = self._session_time(day, hour)
            starts.append((first, shopper))
            if n > 1:  # a second visit, long enough after the first to be its own session
                starts.append((first + timedelta(minutes=self.rng.randint(120, 360)), shopper))
        anonymous = int(self.np.poisson(0.35 * len(starts))) if starts else 0
        starts.extend(
            (self._session_time(day, hour), None) for hour in self._session_hours(anonymous)
        )
        for moment, visitor in starts:
            if begins <= moment < ends:
                self.at(moment, self._session(visitor, eager))
        replenish = datetime.combine(day, time(6), self.end.tzinfo)
        if begins <= replenish < ends:
            self.at(replenish, self._replenish(day))

    def _session_hours(self, count: int) -> list[int]:
        """The hours `count` sessions start in (`np.choice` with p takes one uniform per draw,
        so drawing them together gives the numbers drawing them one by one would)."""
        if count == 0:
            return []
        hours: list[int] = self.np.choice(24, size=count, p=HOURS).tolist()
        return hours

    def _session_time(self, day: date, hour: int) -> datetime:
        """A start time in the hour; late sessions start early enough to end before midnight."""
        seconds = min(hour * 3600 + self.rng.randrange(3600), 86400 - 4500)
        return datetime.combine(day, time(), self.end.tzinfo) + timedelta(seconds=seconds)

    def _close_day(self, day: date) -> None:
        for product in self.world.products:
            self.sales[product.sku].append(self.sold_today[product.sku])
            if self._available(product) == 0:
                self.counts.stockout_days[product.sku] += 1
        self.sold_today.clear()

    # ------------------------------------------------------------------ stock

    def _available(self, product: Product) -> int:
        levels = self.levels
        total = 0
        for key in self.stock_keys[product.sku]:
            level = levels.get(key)
            if level is not None:
                total += level.available
        return total

    def _replenish(self, day: date) -> Wait:
        """Each morning, order what would run short: cover for the lead time and a week more,
        up to a month, from the last two weeks' sales (or the prior, if higher)."""
        for product in self.world.products:
            recent = self.sales[product.sku]
            daily = max(self.expected_daily[product.sku], sum(recent) / max(1, len(recent)))
            position = self._available(product) + self.on_order[product.sku]
            if position >= daily * (LEAD_TIME_DAYS[1] + 7):
                continue
            units = max(3, math.ceil(daily * COVER_DAYS - position))
            lead = timedelta(days=self.rng.randint(*LEAD_TIME_DAYS), hours=self.rng.randint(0, 8))
            late_from, late_until = product.fragile_from, product.fragile_until
            if late_from is not None and late_until is not None and late_from <= day <= late_until:
                arrives = datetime.combine(late_until, time(9), self.end.tzinfo)
                lead = max(lead, arrives - self.now)
            self.on_order[product.sku] += units
            self.at(self.now + lead, self._delivery(product, units))
        yield from ()

    def _delivery(self, product: Product, units: int) -> Wait:
        self.on_order[product.sku] -= units
        self._receive(product, units, f"PO-{self.params.prefix}-{next(self.po_number):06d}")
        yield from ()

    def _allocate(self, sku: str, quantity: int) -> list[tuple[str, int]] | None:
        """The inventory rule: the whole line from the first warehouse that holds it, else split
        in warehouse order; None when all of them together do not hold it."""
        product = self.world.by_sku[sku]
        levels = [self.levels[(sku, w)] for w in product.warehouses if (sku, w) in self.levels]
        for level in levels:
            if level.available >= quantity:
                return [(level.warehouse_id, quantity)]
        if sum(level.available for level in levels) < quantity:
            return None
        taken, left = [], quantity
        for level in levels:
            take = min(left, level.available)
            if take:
                taken.append((level.warehouse_id, take))
                left -= take
        return taken

    # ------------------------------------------------------------------ shoppers

    def _pick(self, segment: int, category: tuple[str, ...] | None) -> Product:
        """A product this shopper looks at: the segment's taste times popularity, in the category
        searched for if there was a search."""
        if category is None:
            products, cdf = self.world.products, self.view_cdf[segment]
        else:
            products, cdf = self.by_category[category], self.category_cdf[(segment, category)]
        index = bisect.bisect_left(cdf, self.rng.random())
        return products[min(index, len(products) - 1)]

    def _promotion_on(self, product: Product) -> Promotion | None:
        now = self.now
        live = [p for p in self.badges[product.sku] if p.starts_at <= now < p.ends_at]
        return max(live, key=lambda p: p.value, default=None)

    def _add_probability(self, product: Product, segment: int, eager: float) -> float:
        """The planted price response: the add-to-cart rate moves with the price paid against
        the product's usual price, by the segment's elasticity; a promotion badge adds a bit."""
        promotion = self._promotion_on(product)
        paid = product.price_cents * (1 - (promotion.value / 10_000 if promotion else 0.0))
        elasticity = SEGMENTS[segment].elasticity
        factor = (paid / product.base_price_cents) ** (-elasticity)
        badge = 1.25 if promotion else 1.0
        return float(min(0.6, BASE_ADD_TO_CART * factor * badge * eager))

    def _session(self, shopper: Shopper | None, eager: float) -> Wait:
        self.counts.sessions += 1
        session_id = f"ses-{self.rng.getrandbits(64):016x}"
        user_id = shopper.user_id if shopper else None
        segment = shopper.segment if shopper else self.rng.randrange(len(SEGMENTS))
        focus: tuple[str, ...] | None = None
        if shopper is None:
            self.counts.anonymous_sessions += 1
        elif self.now - self.cart_touched.get(user_id or "", self.now) > timedelta(days=30):
            self.carts.pop(user_id or "", None)  # the cart's TTL ran out: Redis forgot it
        if self.rng.random() < 0.4:  # the session starts with a search
            focus, query, results = self._query(segment)
            self.emit_fact(
                SEARCH_PERFORMED,
                {
                    "session_id": session_id,
                    "user_id": user_id,
                    "query": query,
                    "result_count": results,
                    "zero_results": results == 0,
                },
                SEARCH,
                outbox=False,
            )
            if results == 0:
                focus = None
            yield timedelta(seconds=self.rng.randint(5, 40))
        views = int(self.np.geometric(0.3))
        for n in range(min(views, 12)):
            product = self._pick(segment, focus)
            referrer = "search" if focus and n == 0 else "category" if focus else "home"
            if self.rng.random() < 0.04:
                self.emit_fact(
                    RECOMMENDATION_CLICKED,
                    {
                        "session_id": session_id,
                        "user_id": user_id,
                        "sku": product.sku,
                        "slot": self.rng.randrange(10),
                        "placement": self.rng.choice(("home", "product", "cart")),
                        "model_version": "popularity-baseline",
                    },
                    BEHAVIOUR,
                    outbox=False,
                )
                referrer = "recommendation"
            self.emit_fact(
                PRODUCT_VIEWED,
                {
                    "session_id": session_id,
                    "user_id": user_id,
                    "sku": product.sku,
                    "referrer": referrer,
                },
                BEHAVIOUR,
                outbox=False,
            )
            yield timedelta(seconds=self.rng.randint(15, 120))
            if shopper is None:
                continue  # anonymous visitors browse; carts here belong to shoppers who sign in
            if self.rng.random() < self._add_probability(product, segment, eager):
                if self._available(product) == 0:
                    self.counts.lost_demand[product.sku] += 1  # demand the stockout censored
                    continue
                quantity = self.rng.choices((1, 2, 3), cum_weights=(90, 98, 100))[0]
                self._add_to_cart(shopper, product, quantity)
                yield timedelta(seconds=self.rng.randint(5, 30))
                partner = self.world.by_sku.get(product.complement or "")
                if partner and self.rng.random() < COMPLEMENT_PROBABILITY:
                    self.emit_fact(
                        PRODUCT_VIEWED,
                        {
                            "session_id": session_id,
                            "user_id": user_id,
                            "sku": partner.sku,
                            "referrer": "bought-together",
                        },
                        BEHAVIOUR,
                        outbox=False,
                    )
                    yield timedelta(seconds=self.rng.randint(10, 60))
                    if self._available(partner) > 0:
                        self._add_to_cart(shopper, partner, 1)
                        yield timedelta(seconds=self.rng.randint(5, 30))
                    else:
                        self.counts.lost_demand[partner.sku] += 1
            elif self.rng.random() < 0.01 and (shopper.user_id, product.sku) not in self.wishlists:
                self.wishlists[(shopper.user_id, product.sku)] = self.now
                self.emit_fact(
                    WISHLIST_ITEM_ADDED, {"user_id": shopper.user_id, "sku": product.sku}, WISHLIST
                )
        if shopper is None:
            return
        cart = self.carts[shopper.user_id]
        if cart and self.rng.random() < 0.1:
            sku = self.rng.choice(sorted(cart))
            self._remove_from_cart(shopper, sku)
            yield timedelta(seconds=self.rng.randint(5, 30))
        if cart and self.rng.random() < CHECKOUT_PROBABILITY * eager:
            yield timedelta(seconds=self.rng.randint(20, 90))
            yield from self._checkout(shopper)
        elif cart:
            self.counts.abandoned_checkouts += 1

    def _query(self, segment: int) -> tuple[tuple[str, ...] | None, str, int]:
        """A search for something of the segment's taste; a few find nothing."""
        if self.rng.random() < 0.04:
            return None, self.rng.choice(ZERO_RESULT_QUERIES), 0
        categories, cum_weights = self.segment_categories[segment]
        category = self.rng.choices(categories, cum_weights=cum_weights)[0]
        matching = self.by_category[category]
        product = self.rng.choice(matching)
        roll = self.rng.random()
        query = (
            product.noun
            if roll < 0.6
            else f"{product.brand} {product.noun}".lower()
            if roll < 0.85
            else category[1]
        )
        if (category, query) not in self._query_results:
            word = query.split()[-1]
            found = sum(1 for p in matching if word in p.name.lower())
            self._query_results[(category, query)] = found or len(matching)
        return category, query, self._query_results[(category, query)]

    def _add_to_cart(self, shopper: Shopper, product: Product, quantity: int) -> None:
        cart = self.carts[shopper.user_id]
        cart[product.sku] = cart.get(product.sku, 0) + quantity
        self.cart_touched[shopper.user_id] = self.now
        self.emit_fact(
            CART_ITEM_ADDED,
            {
                "cart_id": user_cart_id(shopper.user_id),
                "user_id": shopper.user_id,
                "sku": product.sku,
                "quantity": quantity,
                "unit_price_cents": product.price_cents,
                "currency": CURRENCY,
            },
            CART,
        )

    def _remove_from_cart(self, shopper: Shopper, sku: str) -> None:
        quantity = self.carts[shopper.user_id].pop(sku)
        self.emit_fact(
            CART_ITEM_REMOVED,
            {
                "cart_id": user_cart_id(shopper.user_id),
                "user_id": shopper.user_id,
                "sku": sku,
                "quantity": quantity,
            },
            CART,
        )

    # ------------------------------------------------------------------ checkout and after

    def _checkout(self, shopper: Shopper) -> Wait:
        """The checkout saga as serving runs it: reserve, place, authorize, confirm or fail."""
        cart = self.carts[shopper.user_id]
        short = [sku for sku, quantity in cart.items() if self._allocate(sku, quantity) is None]
        for sku in sorted(short):  # 409 out of stock: the shopper drops what is gone
            self.counts.lost_demand[sku] += cart[sku]
            self._remove_from_cart(shopper, sku)
            yield timedelta(seconds=self.rng.randint(5, 20))
        if not cart:
            return
        items = sorted(cart.items())
        first_order = shopper.user_id not in self.customers_with_orders
        coupon = self.welcome.coupon_code if first_order and self.rng.random() < 0.3 else None
        quote = engine.price(
            [
                engine.Line(
                    sku,
                    quantity,
                    self.world.by_sku[sku].price_cents,
                    self.world.by_sku[sku].category,
                )
                for sku, quantity in items
            ],
            self.engine_promotions,
            currency=CURRENCY,
            now=self.now,
            coupon_code=coupon,
        )
        applied = quote.coupon_status is engine.CouponStatus.APPLIED
        order_id, key = new_uuid(self.rng), new_uuid(self.rng)
        state = OrderState(
            aggregate=Order(
                id=order_id,
                user_id=shopper.user_id,
                status=OrderStatus.PENDING_PAYMENT,
                total_cents=quote.total_cents,
                currency=CURRENCY,
                idempotency_key=key,
                coupon_code=coupon if applied else None,
            ),
            created_at=self.now,
            updated_at=self.now,
            subtotal_cents=quote.subtotal_cents,
            discount_cents=quote.discount_cents,
            coupon_code=coupon if applied else None,
            shipping_address=_address(shopper),
            lines=[
                {
                    "sku": line.sku,
                    "name": self.world.by_sku[line.sku].name,
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                    "discount_cents": line.discount_cents,
                    "total_cents": line.total_cents,
                }
                for line in quote.lines
            ],
        )
        self.orders[order_id] = state
        self.customers_with_orders.add(shopper.user_id)
        self.counts.orders += 1
        # Step 1, one transaction: reserve every line, place the order, hand the cart over.
        expires = self.now + timedelta(minutes=15)
        for sku, quantity in items:
            for warehouse, units in self._allocate(sku, quantity) or []:
                before = self.levels[(sku, warehouse)]
                self._movement(
                    Movement(
                        MovementReason.RESERVATION,
                        before,
                        before.reserving(units),
                        order_id=order_id,
                    )
                )
                state.reservations.append(
                    {
                        "order_id": order_id,
                        "sku": sku,
                        "warehouse_id": warehouse,
                        "quantity": units,
                        "status": "held",
                        "expires_at": expires,
                        "created_at": self.now,
                        "settled_at": None,
                        "release_reason": None,
                    }
                )
        state.aggregate.history.append(_placed(shopper.user_id))
        self._save(state)
        self.emit(
            OrderPlaced(
                order_id=order_id,
                user_id=shopper.user_id,
                lines=[
                    OrderLine(
                        sku=line["sku"],
                        quantity=line["quantity"],
                        unit_price_cents=line["unit_price_cents"],
                        discount_cents=line["discount_cents"],
                    )
                    for line in state.lines
                ],
                subtotal_cents=quote.subtotal_cents,
                discount_cents=quote.discount_cents,
                total_cents=quote.total_cents,
                currency=CURRENCY,
                ship_to_country=shopper.country,
            ),
            ORDERS,
        )
        self.emit_fact(
            CART_CHECKED_OUT,
            {
                "cart_id": user_cart_id(shopper.user_id),
                "user_id": shopper.user_id,
                "order_id": order_id,
                "item_count": sum(quantity for _, quantity in items),
            },
            CHECKOUT,
        )
        # Step 2: the gateway answers.
        yield timedelta(milliseconds=self.rng.randint(400, 3000))
        # Step 3, one transaction on the order.
        payment = PaymentState(
            payment_id=new_uuid(self.rng),
            idempotency_key=key,
            reference="pay_" + "".join(self.rng.choices("abcdefghijklmnopqrstuvwxyz", k=24)),
            status="authorized",
            amount_cents=quote.total_cents,
            created_at=self.now,
            updated_at=self.now,
        )
        state.payment = payment
        if self.rng.random() < DECLINE_PROBABILITY:
            payment.status = "declined"
            for reservation in state.reservations:
                self._settle_reservation(reservation, "released", "payment_failed:declined")
            self.emit_fact(PAYMENT_DECLINED, self._money(state, reason="declined"), PAYMENTS)
            state.aggregate.transition(OrderStatus.PAYMENT_FAILED, reason="declined")
            self._save(state)
            state.checkout_state = "payment_failed"
            return
        self.emit_fact(PAYMENT_AUTHORIZED, self._money(state), PAYMENTS)
        for reservation in state.reservations:
            self._settle_reservation(reservation, "sold", None)
            self.sold_today[reservation["sku"]] += reservation["quantity"]
        state.allocations = [
            {"sku": r["sku"], "warehouse_id": r["warehouse_id"], "quantity": r["quantity"]}
            for r in state.reservations
        ]
        state.aggregate.transition(OrderStatus.CONFIRMED, reason="payment authorized")
        self._save(state)
        if state.coupon_code:
            self.coupon_claims.append(
                {
                    "promotion_id": self.welcome.promotion_id,
                    "holder": shopper.user_id,
                    "claimed_at": state.created_at - timedelta(minutes=2),
                    "expires_at": state.created_at + timedelta(days=30),
                    "order_id": order_id,
                }
            )
        state.checkout_state = "confirmed"
        cart.clear()
        self.at(self.now + timedelta(seconds=1), self._fulfil(state))

    def _money(self, state: OrderState, **more: Any) -> dict[str, Any]:
        assert state.payment is not None
        return {
            "payment_id": state.payment.payment_id,
            "order_id": state.aggregate.id,
            "amount_cents": state.payment.amount_cents,
            "currency": CURRENCY,
            "gateway": GATEWAY,
            **more,
        }

    def _settle_reservation(
        self, reservation: dict[str, Any], status: str, why: str | None
    ) -> None:
        before = self.levels[(reservation["sku"], reservation["warehouse_id"])]
        units = reservation["quantity"]
        if status == "sold":
            movement = Movement(
                MovementReason.SALE, before, before.selling(units), order_id=reservation["order_id"]
            )
        else:
            movement = Movement(
                MovementReason.RELEASE,
                before,
                before.releasing(units),
                order_id=reservation["order_id"],
                note=why,
            )
        self._movement(movement)
        reservation.update(status=status, settled_at=self.now, release_reason=why)

    def _payment_status(self, state: OrderState, status: str) -> None:
        assert state.payment is not None
        state.payment.status = status
        state.payment.updated_at = self.now

    def _fulfil(self, state: OrderState) -> Wait:
        """What staff and the customer do after the payment: ship, deliver, sometimes cancel
        first, sometimes send it back and get a refund."""
        order = state.aggregate
        if self.rng.random() < CANCEL_PROBABILITY:
            yield timedelta(minutes=self.rng.randint(30, 480))
            self._payment_status(state, "voided")
            self.emit_fact(PAYMENT_VOIDED, self._money(state), PAYMENTS)
            for allocation in state.allocations:
                product = self.world.by_sku[allocation["sku"]]
                warehouse = allocation["warehouse_id"]
                before = self.levels[(product.sku, warehouse)]
                self._movement(
                    Movement(
                        MovementReason.RECEIPT,
                        before,
                        before.received(allocation["quantity"]),
                        reference=f"cancel:{order.id}",
                    ),
                    actor_id=order.user_id,
                )
            state.allocations = []
            order.transition(OrderStatus.CANCELLED, reason="customer", actor_id=order.user_id)
            self._save(state)
            return
        yield timedelta(hours=self.rng.uniform(2, 20))
        order.transition(OrderStatus.FULFILLING)
        self._save(state)
        yield timedelta(hours=self.rng.uniform(12, 48))
        self._payment_status(state, "captured")
        self.emit_fact(PAYMENT_CAPTURED, self._money(state), PAYMENTS)
        order.transition(OrderStatus.SHIPPED)
        self._save(state)
        yield timedelta(hours=self.rng.uniform(24, 96))
        order.transition(OrderStatus.DELIVERED)
        self._save(state)
        top = {self.world.by_sku[line["sku"]].category[0] for line in state.lines}
        returns = max(RETURN_PROBABILITY.get(c, RETURN_PROBABILITY_DEFAULT) for c in top)
        if self.rng.random() >= returns:
            return
        yield timedelta(days=self.rng.uniform(2, 12))
        order.transition(OrderStatus.RETURNED, reason="return", actor_id=order.user_id)
        self._save(state)
        yield timedelta(days=self.rng.uniform(1, 3))
        self._payment_status(state, "refunded")
        self.emit_fact(PAYMENT_REFUNDED, self._money(state), PAYMENTS)
        order.transition(OrderStatus.REFUNDED, reason="return received")
        self._save(state)


def _placed(user_id: str) -> Any:
    from serving.orders.domain import HistoryEntry

    return HistoryEntry(None, OrderStatus.PENDING_PAYMENT, "placed", user_id)


def _address(shopper: Shopper) -> dict[str, str]:
    return {
        "full_name": f"Shopper {shopper.email.split('@')[0]}",
        "line1": "1 Simulated Street",
        "city": "Lakeside",
        "postal_code": "10001",
        "country": shopper.country,
    }


def _engine_promotion(promotion: Promotion) -> engine.Promotion:
    return engine.Promotion(
        id=promotion.promotion_id,
        name=promotion.name,
        kind=promotion.kind,  # type: ignore[arg-type]
        value=promotion.value,
        scope=promotion.scope,  # type: ignore[arg-type]
        starts_at=promotion.starts_at,
        scope_values=promotion.scope_values,
        ends_at=promotion.ends_at,
        currency=CURRENCY if promotion.kind == "fixed" else None,
        coupon_code=promotion.coupon_code,
    )
