"""Which events become which notifications, for whom: one small rule per event type.

A rule reads only the fields it names (a `View` of the event's `data`, extra fields ignored),
so it works for event types whose model is not registered in this build: the shipment and
return types below are named by the strings the logistics service emits. Adding a message is
a rule here plus its four template files (`templates/<kind>.{subject.txt,txt,html,short.txt}`).

What a rule puts in the context is what the message may show: ids, amounts, names, links —
never a token, a card number or a password (events carry none; rules pass no free-form field).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from shoplake.events import CloudEvent
from shoplake.events.catalog import PriceChanged
from shoplake.events.inventory import BackInStock
from shoplake.events.notification import NotificationRequested
from shoplake.events.order import OrderConfirmed
from shoplake.events.payment import PaymentDeclined, PaymentRefunded
from shoplake.notifications.contract import Kind

# Emitted by the logistics and returns services (serving/fulfilment), not registered in every
# build: the rules read them by these names and by the fields of their views only.
SHIPMENT_SHIPPED = "shop.fulfilment.ShipmentShipped.v1"
SHIPMENT_DELIVERED = "shop.fulfilment.ShipmentDelivered.v1"
RETURN_RECEIVED = "shop.fulfilment.ReturnReceived.v1"
EXPECTED_ELSEWHERE = frozenset({SHIPMENT_SHIPPED, SHIPMENT_DELIVERED, RETURN_RECEIVED})

# Kinds a service may ask for directly with NotificationRequested.
REQUESTABLE = frozenset({Kind.ACCOUNT_EXISTS})


@dataclass(frozen=True)
class OrderSummary:
    order_id: str
    user_id: str
    total_cents: int
    currency: str


class Lookups(Protocol):
    """What rules may ask about the world (Postgres in production, dicts in unit tests)."""

    def order(self, order_id: str) -> OrderSummary | None: ...

    def wishers(self, sku: str) -> list[str]:
        """The users who wishlisted the SKU."""
        ...

    def product_name(self, sku: str) -> str | None: ...


@dataclass(frozen=True)
class Intent:
    """One user should hear about one thing: the kind, what the message shows, and (for alerts
    that must not repeat) a key of which at most one delivery per channel may exist."""

    kind: Kind
    user_id: str
    context: Mapping[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None


@dataclass(frozen=True)
class RuleInput:
    event_id: str
    event_time: datetime
    lookups: Lookups
    storefront_url: str

    def link(self, path: str) -> str:
        return f"{self.storefront_url.rstrip('/')}/{path.lstrip('/')}"


class View(BaseModel):
    """The fields a rule reads from an event's `data`; anything else in it is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


V = TypeVar("V", bound=View)


@dataclass(frozen=True)
class Rule(Generic[V]):
    event_type: str
    view: type[V]
    decide: Callable[[V, RuleInput], list[Intent]]

    def intents(self, event: CloudEvent, given: RuleInput) -> list[Intent]:
        """Raises pydantic.ValidationError when `data` lacks what the view needs."""
        return self.decide(self.view.model_validate(event.data), given)


def money(cents: int, currency: str) -> str:
    """12345, EUR → '123.45 EUR' (integer arithmetic: no float ever touches an amount)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d} {currency}"


# ---------------------------------------------------------------- the views


class OrderConfirmedView(View):
    order_id: str
    user_id: str
    total_cents: int
    currency: str


class PaymentView(View):
    order_id: str
    amount_cents: int
    currency: str


class ShipmentView(View):
    shipment_id: str
    order_id: str
    user_id: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None


class ReturnView(View):
    return_id: str
    order_id: str
    user_id: str | None = None


class PriceChangedView(View):
    sku: str
    old_price_cents: int
    new_price_cents: int
    currency: str


class StockView(View):
    sku: str
    warehouse_id: str


class RequestedView(View):
    user_id: str
    kind: str
    reference: str | None = None


# ---------------------------------------------------------------- the rules


def _customer(order_id: str, user_id: str | None, given: RuleInput) -> str | None:
    """The order's customer: named by the event, else looked up (None: the order is unknown)."""
    if user_id is not None:
        return user_id
    order = given.lookups.order(order_id)
    return order.user_id if order is not None else None


def order_confirmed(view: OrderConfirmedView, given: RuleInput) -> list[Intent]:
    context = {
        "order_id": view.order_id,
        "total": money(view.total_cents, view.currency),
        "order_link": given.link(f"orders/{view.order_id}"),
    }
    return [Intent(Kind.ORDER_CONFIRMED, view.user_id, context)]


def payment_failed(view: PaymentView, given: RuleInput) -> list[Intent]:
    user_id = _customer(view.order_id, None, given)
    if user_id is None:
        return []
    context = {
        "order_id": view.order_id,
        "amount": money(view.amount_cents, view.currency),
        "order_link": given.link(f"orders/{view.order_id}"),
    }
    return [Intent(Kind.PAYMENT_FAILED, user_id, context)]


def refund_issued(view: PaymentView, given: RuleInput) -> list[Intent]:
    user_id = _customer(view.order_id, None, given)
    if user_id is None:
        return []
    context = {
        "order_id": view.order_id,
        "amount": money(view.amount_cents, view.currency),
        "order_link": given.link(f"orders/{view.order_id}"),
    }
    return [Intent(Kind.REFUND_ISSUED, user_id, context)]


def _shipment(kind: Kind) -> Callable[[ShipmentView, RuleInput], list[Intent]]:
    def decide(view: ShipmentView, given: RuleInput) -> list[Intent]:
        user_id = _customer(view.order_id, view.user_id, given)
        if user_id is None:
            return []
        context = {
            "order_id": view.order_id,
            "shipment_id": view.shipment_id,
            "carrier": view.carrier or "",
            "tracking_number": view.tracking_number or "",
            # The shop's tracking page (every shipment and its scans); the carrier's own page
            # when the event names one.
            "tracking_link": view.tracking_url or given.link(f"orders/{view.order_id}/tracking"),
            "order_link": given.link(f"orders/{view.order_id}"),
        }
        return [Intent(kind, user_id, context)]

    return decide


def return_received(view: ReturnView, given: RuleInput) -> list[Intent]:
    user_id = _customer(view.order_id, view.user_id, given)
    if user_id is None:
        return []
    context = {
        "order_id": view.order_id,
        "return_id": view.return_id,
        "order_link": given.link(f"orders/{view.order_id}"),
    }
    return [Intent(Kind.RETURN_RECEIVED, user_id, context)]


def _day(given: RuleInput) -> str:
    return given.event_time.strftime("%Y-%m-%d")


def price_dropped(view: PriceChangedView, given: RuleInput) -> list[Intent]:
    if view.new_price_cents >= view.old_price_cents:
        return []
    name = given.lookups.product_name(view.sku) or view.sku
    context = {
        "sku": view.sku,
        "product_name": name,
        "old_price": money(view.old_price_cents, view.currency),
        "new_price": money(view.new_price_cents, view.currency),
        "product_link": given.link(f"products/{view.sku}"),
    }
    # One price alert per user, SKU and day: a price that flaps does not flood anyone.
    return [
        Intent(Kind.PRICE_DROPPED, user, context, f"price_dropped:{view.sku}:{user}:{_day(given)}")
        for user in given.lookups.wishers(view.sku)
    ]


def back_in_stock(view: StockView, given: RuleInput) -> list[Intent]:
    name = given.lookups.product_name(view.sku) or view.sku
    context = {
        "sku": view.sku,
        "product_name": name,
        "product_link": given.link(f"products/{view.sku}"),
    }
    # BackInStock is per warehouse: a SKU restocked in two warehouses on one day is one alert.
    return [
        Intent(Kind.BACK_IN_STOCK, user, context, f"back_in_stock:{view.sku}:{user}:{_day(given)}")
        for user in given.lookups.wishers(view.sku)
    ]


def requested(view: RequestedView, given: RuleInput) -> list[Intent]:
    if view.kind not in {kind.value for kind in REQUESTABLE}:
        return []
    kind = Kind(view.kind)
    context = {
        "login_link": given.link("login"),
        "reset_link": given.link("password-reset"),
    }
    # At most one such notice per account and hour, however many attempts an attacker makes.
    hour = given.event_time.strftime("%Y-%m-%dT%H")
    return [Intent(kind, view.user_id, context, f"{kind.value}:{view.user_id}:{hour}")]


def _rule(
    event_type: str, view: type[V], decide: Callable[[V, RuleInput], list[Intent]]
) -> Rule[V]:
    return Rule(event_type, view, decide)


RULES: dict[str, Rule[Any]] = {
    rule.event_type: rule
    for rule in (
        _rule(OrderConfirmed.event_type(), OrderConfirmedView, order_confirmed),
        _rule(PaymentDeclined.event_type(), PaymentView, payment_failed),
        _rule(PaymentRefunded.event_type(), PaymentView, refund_issued),
        _rule(SHIPMENT_SHIPPED, ShipmentView, _shipment(Kind.ORDER_SHIPPED)),
        _rule(SHIPMENT_DELIVERED, ShipmentView, _shipment(Kind.ORDER_DELIVERED)),
        _rule(RETURN_RECEIVED, ReturnView, return_received),
        _rule(PriceChanged.event_type(), PriceChangedView, price_dropped),
        _rule(BackInStock.event_type(), StockView, back_in_stock),
        _rule(NotificationRequested.event_type(), RequestedView, requested),
    )
}
