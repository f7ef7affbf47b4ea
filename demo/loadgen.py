"""A realistic mix of shop events for load tests and benchmarks, and a fast producer for them.

The mix follows shoppers: many views and searches, fewer cart changes, a checkout saga
(cart checked out → order placed → stock reserved → payment authorized → captured and confirmed,
or declined, released and cancelled), later shipping, and a trickle of catalog, stock and sign-up
events. Every event is built through its pydantic model, so the stream is valid by construction.

The story is told by hand for the types it knows; every other registered type (a new domain's
events, a refund, a discontinuation...) is still in the mix, as examples built from its model
(`example_data`), so the lake's tests carry each type of the contract without a list to keep.
"""

from __future__ import annotations

import itertools
import random
import types
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from kafka import KafkaProducer
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from shoplake.config import Settings
from shoplake.events import DOMAINS, REGISTRY, CloudEvent, EventData, topic_for
from shoplake.events.behaviour import ProductViewed, RecommendationClicked, SearchPerformed
from shoplake.events.cart import CartCheckedOut, CartItemAdded, CartItemRemoved
from shoplake.events.catalog import PriceChanged, ProductCreated, ProductUpdated
from shoplake.events.inventory import StockReceived, StockReleased, StockReserved
from shoplake.events.order import (
    OrderCancelled,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    OrderStatusChanged,
)
from shoplake.events.payment import PaymentAuthorized, PaymentCaptured, PaymentDeclined
from shoplake.events.user import UserRegistered
from shoplake.events.wishlist import WishlistItemAdded, WishlistItemRemoved

SOURCE = "/loadgen"
QUERIES = ("shoes", "red dress", "laptop", "usb c cable", "coffee", "tent", "lego", "xyzzy")
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


# The types ShopStory tells by hand; the others come from `example_data`.
STORY_TYPES = frozenset(
    model.event_type()
    for model in (
        ProductViewed,
        RecommendationClicked,
        SearchPerformed,
        CartCheckedOut,
        CartItemAdded,
        CartItemRemoved,
        PriceChanged,
        ProductCreated,
        ProductUpdated,
        StockReceived,
        StockReleased,
        StockReserved,
        OrderCancelled,
        OrderConfirmed,
        OrderPlaced,
        OrderStatusChanged,
        PaymentAuthorized,
        PaymentCaptured,
        PaymentDeclined,
        UserRegistered,
        WishlistItemAdded,
        WishlistItemRemoved,
    )
)


def _bound(info: FieldInfo | None, kind: type, attribute: str, default: int) -> int:
    """The field's `ge`, `le` or `max_length` constraint, or `default`."""
    for constraint in info.metadata if info is not None else ():
        if isinstance(constraint, kind):
            return int(getattr(constraint, attribute))
    return default


def _example(annotation: Any, name: str, rng: random.Random, info: FieldInfo | None) -> Any:
    """A valid value for one field, from its annotation and constraints."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _example(members[0], name, rng, info)
    if origin is Literal:
        return rng.choice(get_args(annotation))
    if origin is list:
        return [_example(get_args(annotation)[0], name, rng, None)]
    if origin is dict or annotation is Any:
        return {}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {
            field: _example(f.annotation, field, rng, f)
            for field, f in annotation.model_fields.items()
        }
    if annotation is bool:
        return rng.random() < 0.5
    if annotation is int:
        low = _bound(info, annotated_types.Ge, "ge", 0)
        high = min(_bound(info, annotated_types.Le, "le", 1_000), low + 1_000)
        return rng.randint(low, high)
    if annotation is float:
        return rng.random()
    if annotation is datetime:
        return _now()
    if annotation is date:
        return _now().date()
    if annotation is str:
        length = _bound(info, annotated_types.MaxLen, "max_length", 64)
        return f"{name}-{rng.getrandbits(32):08x}"[: max(1, length)]
    raise TypeError(f"no example for {name}: {annotation!r}; give the story a hint for it")


def example_data(
    model: type[EventData], rng: random.Random, hints: dict[str, Any] | None = None
) -> EventData:
    """A valid instance of any event type: hinted fields as given, the others made up."""
    hints = hints or {}
    values = {
        name: hints[name] if name in hints else _example(info.annotation, name, rng, info)
        for name, info in model.model_fields.items()
        if info.is_required() or name in hints or rng.random() < 0.5
    }
    return model.model_validate(values)


class ShopStory:
    """Generates a coherent stream of events; `late_fraction` of them carry an older time."""

    def __init__(
        self,
        seed: int = 7,
        *,
        clock: Clock = _now,
        late_fraction: float = 0.0,
        products: int = 200,
        users: int = 500,
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - test data, not secrets
        self.clock = clock
        self.late_fraction = late_fraction
        self.n_products = products
        self.n_users = users
        self.skus: list[str] = []
        self.prices: dict[str, int] = {}
        self.versions: dict[str, int] = {}
        self.users: list[str] = []
        self.shipping: list[str] = []
        # Every registered type the story does not tell, taken in turn.
        self._untold = itertools.cycle(sorted(set(REGISTRY) - STORY_TYPES) or [None])

    def _event(self, data: EventData) -> CloudEvent:
        time = self.clock()
        if self.late_fraction and self.rng.random() < self.late_fraction:
            time -= timedelta(minutes=self.rng.randint(5, 600))
        return data.to_event(
            SOURCE, event_id=str(uuid.UUID(int=self.rng.getrandbits(128))), time=time
        )

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{self.rng.getrandbits(48):012x}"

    def _product(self) -> Iterator[CloudEvent]:
        sku = f"SKU-{len(self.skus):06d}"
        price = self.rng.randint(199, 49_999)
        self.skus.append(sku)
        self.prices[sku] = price
        self.versions[sku] = 1
        yield self._event(
            ProductCreated(
                sku=sku,
                version=1,
                name=f"Product {sku}",
                brand=self.rng.choice(("acme", "globex", "initech", "umbrella")),
                category_path=["home", self.rng.choice(("kitchen", "garden", "office"))],
                price_cents=price,
                currency="EUR",
                status="active",
                attributes={"colour": self.rng.choice(("red", "blue", "green"))},
            )
        )

    def _user(self) -> Iterator[CloudEvent]:
        user_id = self._id("usr")
        self.users.append(user_id)
        yield self._event(
            UserRegistered(
                user_id=user_id,
                email=f"{user_id}@example.com",
                role="customer",
                country=self.rng.choice(("FR", "DE", "ES", "IT", None)),
            )
        )

    def _session(self) -> tuple[str, str | None]:
        user = self.rng.choice(self.users) if self.rng.random() < 0.6 else None
        return self._id("ses"), user

    def _checkout(self) -> Iterator[CloudEvent]:
        user = self.rng.choice(self.users)
        cart_id, order_id, payment_id = self._id("cart"), self._id("ord"), self._id("pay")
        skus = self.rng.sample(self.skus, self.rng.randint(1, 3))
        lines = [
            OrderLine(sku=sku, quantity=self.rng.randint(1, 3), unit_price_cents=self.prices[sku])
            for sku in skus
        ]
        subtotal = sum(line.quantity * line.unit_price_cents for line in lines)
        for line in lines:
            yield self._event(
                CartItemAdded(
                    cart_id=cart_id,
                    user_id=user,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price_cents=line.unit_price_cents,
                    currency="EUR",
                )
            )
        yield self._event(
            CartCheckedOut(cart_id=cart_id, user_id=user, order_id=order_id, item_count=len(lines))
        )
        yield self._event(
            OrderPlaced(
                order_id=order_id,
                user_id=user,
                lines=lines,
                subtotal_cents=subtotal,
                shipping_cents=499,
                total_cents=subtotal + 499,
                currency="EUR",
                ship_to_country="FR",
            )
        )
        for line in lines:
            yield self._event(
                StockReserved(
                    sku=line.sku,
                    warehouse_id="WH-1",
                    on_hand=100,
                    reserved=line.quantity,
                    quantity=line.quantity,
                    order_id=order_id,
                )
            )
        money = {"payment_id": payment_id, "order_id": order_id, "currency": "EUR"}
        total = subtotal + 499
        if self.rng.random() < 0.9:
            yield self._event(PaymentAuthorized(amount_cents=total, gateway="fake", **money))
            yield self._event(PaymentCaptured(amount_cents=total, gateway="fake", **money))
            yield self._event(
                OrderConfirmed(order_id=order_id, user_id=user, total_cents=total, currency="EUR")
            )
            self.shipping.append(order_id)
        else:
            yield self._event(
                PaymentDeclined(amount_cents=total, gateway="fake", reason="insufficient", **money)
            )
            for line in lines:
                yield self._event(
                    StockReleased(
                        sku=line.sku,
                        warehouse_id="WH-1",
                        on_hand=100,
                        reserved=0,
                        quantity=line.quantity,
                        order_id=order_id,
                        reason="payment declined",
                    )
                )
            yield self._event(
                OrderCancelled(order_id=order_id, user_id=user, reason="payment declined")
            )

    def _ship(self) -> Iterator[CloudEvent]:
        if self.shipping:
            order_id = self.shipping.pop(0)
            for before, after in (("CONFIRMED", "FULFILLING"), ("FULFILLING", "SHIPPED")):
                yield self._event(
                    OrderStatusChanged(order_id=order_id, from_status=before, to_status=after)
                )

    def _browse(self) -> Iterator[CloudEvent]:
        session, user = self._session()
        sku = self.rng.choice(self.skus)
        roll = self.rng.random()
        if roll < 0.55:
            yield self._event(ProductViewed(session_id=session, user_id=user, sku=sku))
        elif roll < 0.75:
            query = self.rng.choice(QUERIES)
            count = 0 if query == "xyzzy" else self.rng.randint(1, 400)
            yield self._event(
                SearchPerformed(
                    session_id=session,
                    user_id=user,
                    query=query,
                    result_count=count,
                    zero_results=count == 0,
                )
            )
        elif roll < 0.80:
            yield self._event(
                RecommendationClicked(
                    session_id=session,
                    user_id=user,
                    sku=sku,
                    slot=self.rng.randint(0, 9),
                    placement="home",
                )
            )
        elif roll < 0.92:
            cart = self._id("cart")
            yield self._event(
                CartItemAdded(
                    cart_id=cart,
                    user_id=user,
                    sku=sku,
                    quantity=1,
                    unit_price_cents=self.prices[sku],
                    currency="EUR",
                )
            )
            if self.rng.random() < 0.3:
                yield self._event(CartItemRemoved(cart_id=cart, user_id=user, sku=sku, quantity=1))
        elif user is not None:
            yield self._event(WishlistItemAdded(user_id=user, sku=sku))
            if self.rng.random() < 0.25:
                yield self._event(WishlistItemRemoved(user_id=user, sku=sku))

    def _catalog(self) -> Iterator[CloudEvent]:
        sku = self.rng.choice(self.skus)
        self.versions[sku] += 1
        version = self.versions[sku]
        if self.rng.random() < 0.6:
            old, new = self.prices[sku], max(99, self.prices[sku] + self.rng.randint(-500, 500))
            self.prices[sku] = new
            yield self._event(
                PriceChanged(
                    sku=sku,
                    version=version,
                    old_price_cents=old,
                    new_price_cents=new,
                    currency="EUR",
                )
            )
        else:
            yield self._event(
                ProductUpdated(
                    sku=sku,
                    version=version,
                    name=f"Product {sku} v{version}",
                    brand="acme",
                    category_path=["home", "kitchen"],
                    price_cents=self.prices[sku],
                    currency="EUR",
                    status="active",
                    changed=["name"],
                )
            )
        if self.rng.random() < 0.3:
            yield self._event(
                StockReceived(sku=sku, warehouse_id="WH-1", on_hand=150, reserved=0, quantity=50)
            )

    def _rest_of_contract(self) -> Iterator[CloudEvent]:
        """One event of a type the story does not tell, tied to the story's products and users."""
        event_type = next(self._untold)
        if event_type is None:
            return
        hints: dict[str, Any] = {"sku": self.rng.choice(self.skus), "currency": "EUR"}
        if self.users:
            hints["user_id"] = self.rng.choice(self.users)
        model = REGISTRY[event_type]
        if "version" in model.model_fields:
            self.versions[hints["sku"]] += 1
            hints["version"] = self.versions[hints["sku"]]
        yield self._event(example_data(model, self.rng, hints))

    def events(self, count: int) -> Iterator[CloudEvent]:
        """Exactly `count` events: the catalog and first users, then the shopping."""

        def steps() -> Iterator[CloudEvent]:
            for _ in range(self.n_products):
                yield from self._product()
            for _ in range(max(1, self.n_users // 5)):
                yield from self._user()
            while True:
                roll = self.rng.random()
                if roll < 0.80:
                    yield from self._browse()
                elif roll < 0.90:
                    yield from self._checkout()
                elif roll < 0.95:
                    yield from self._ship()
                elif roll < 0.975:
                    yield from self._catalog()
                elif roll < 0.99:
                    yield from self._user()
                else:
                    yield from self._rest_of_contract()

        yield from itertools.islice(steps(), count)


def domain_topics(namespace: str | None = None) -> dict[str, str]:
    """Topic per domain: the real ones, or the test topics of a namespace."""
    from shoplake.lake import namespaced_topic

    return {
        domain: topic_for(domain) if namespace is None else namespaced_topic(namespace, domain)
        for domain in DOMAINS
    }


def produce(
    settings: Settings,
    records: Iterable[tuple[str, bytes | None, bytes]],
    on_sent: Callable[[int], None] | None = None,
) -> int:
    """Send (topic, key, value) records; return once the broker acknowledged all of them."""
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        batch_size=256 * 1024,
        max_request_size=4 * 1024 * 1024,
    )
    sent = 0
    failures: list[BaseException] = []
    try:
        for topic, key, value in records:
            producer.send(topic, key=key, value=value).add_errback(failures.append)
            sent += 1
            if on_sent is not None and sent % 10_000 == 0:
                on_sent(sent)
        producer.flush(timeout=120)
    finally:
        producer.close(timeout=30)
    if failures:
        raise RuntimeError(f"{len(failures)} of {sent} records were not sent: {failures[0]!r}")
    return sent


def event_records(
    events: Iterable[CloudEvent], topics: dict[str, str]
) -> Iterator[tuple[str, bytes | None, bytes]]:
    for event in events:
        yield topics[event.domain], event.subject.encode(), event.to_json()
