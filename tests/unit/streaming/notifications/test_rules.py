"""Each rule on an in-memory directory: who hears what, and what the message may show."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from demo.loadgen import example_data
from shoplake.events import REGISTRY, CloudEvent
from shoplake.events.catalog import PriceChanged
from shoplake.events.inventory import BackInStock
from shoplake.events.notification import NotificationRequested
from shoplake.events.order import OrderConfirmed
from shoplake.events.payment import PaymentDeclined, PaymentRefunded
from shoplake.notifications.contract import Kind
from streaming.notifications.rules import (
    EXPECTED_ELSEWHERE,
    RULES,
    SHIPMENT_SHIPPED,
    Intent,
    OrderSummary,
    RuleInput,
    money,
)
from tests.support.notifications import FakeDirectory

T0 = datetime(2026, 11, 5, 9, 30, tzinfo=UTC)
SHOP = "https://shop.example.com"


def _intents(directory: FakeDirectory, event_type: str, data: dict[str, object]) -> list[Intent]:
    event = CloudEvent(source="/test", type=event_type, subject="x", data=data, time=T0)
    return RULES[event_type].intents(event, RuleInput(event.id, T0, directory, SHOP))


@pytest.fixture
def directory() -> FakeDirectory:
    found = FakeDirectory()
    found.orders["o-1"] = OrderSummary("o-1", "u-1", 4599, "EUR")
    found.wishlists["SKU-1"] = ["u-2", "u-3"]
    found.products["SKU-1"] = "Stride trail runner"
    return found


def test_money_is_integer_arithmetic() -> None:
    assert money(12345, "EUR") == "123.45 EUR"
    assert money(5, "GBP") == "0.05 GBP"
    assert money(-250, "EUR") == "-2.50 EUR"


def test_order_confirmed_tells_the_customer_the_total(directory: FakeDirectory) -> None:
    data = OrderConfirmed(order_id="o-1", user_id="u-1", total_cents=4599, currency="EUR")
    (intent,) = _intents(directory, OrderConfirmed.event_type(), data.model_dump())
    assert (intent.kind, intent.user_id) == (Kind.ORDER_CONFIRMED, "u-1")
    assert intent.context["total"] == "45.99 EUR"
    assert intent.context["order_link"] == f"{SHOP}/orders/o-1"
    assert intent.dedupe_key is None


@pytest.mark.parametrize(
    ("model", "kind"),
    [(PaymentDeclined, Kind.PAYMENT_FAILED), (PaymentRefunded, Kind.REFUND_ISSUED)],
)
def test_payment_events_go_to_the_orders_customer(
    directory: FakeDirectory, model: type[PaymentDeclined | PaymentRefunded], kind: Kind
) -> None:
    extra = {"reason": "card_declined"} if model is PaymentDeclined else {}
    data = model(
        payment_id="p-1",
        order_id="o-1",
        amount_cents=1000,
        currency="EUR",
        gateway="sandbox",
        **extra,
    )
    (intent,) = _intents(directory, model.event_type(), data.model_dump())
    assert (intent.kind, intent.user_id, intent.context["amount"]) == (kind, "u-1", "10.00 EUR")
    # An order the directory does not know (gone, or not ours): nobody to tell.
    unknown = data.model_copy(update={"order_id": "o-404"})
    assert _intents(directory, model.event_type(), unknown.model_dump()) == []


def test_a_shipment_is_announced_with_its_tracking_link(directory: FakeDirectory) -> None:
    (intent,) = _intents(
        directory,
        SHIPMENT_SHIPPED,
        {
            "shipment_id": "s-1",
            "order_id": "o-1",
            "carrier": "DHL",
            "tracking_number": "1Z999",
            "unexpected": "ignored",
        },
    )
    assert (intent.kind, intent.user_id) == (Kind.ORDER_SHIPPED, "u-1")
    assert intent.context["tracking_link"] == f"{SHOP}/orders/o-1/tracking"
    assert intent.context["tracking_number"] == "1Z999"
    # The carrier's own page wins, and a user named by the event needs no lookup.
    (carrier,) = _intents(
        directory,
        SHIPMENT_SHIPPED,
        {
            "shipment_id": "s-2",
            "order_id": "o-404",
            "user_id": "u-9",
            "tracking_url": "https://carrier.example/t/1",
        },
    )
    assert (carrier.user_id, carrier.context["tracking_link"]) == (
        "u-9",
        "https://carrier.example/t/1",
    )


def test_an_event_without_the_fields_a_rule_reads_is_refused(directory: FakeDirectory) -> None:
    with pytest.raises(ValidationError):
        _intents(directory, SHIPMENT_SHIPPED, {"order_id": "o-1"})


def test_a_price_drop_alerts_each_wisher_once_a_day(directory: FakeDirectory) -> None:
    drop = PriceChanged(
        sku="SKU-1", version=3, old_price_cents=9999, new_price_cents=7999, currency="EUR"
    )
    intents = _intents(directory, PriceChanged.event_type(), drop.model_dump())
    assert [i.user_id for i in intents] == ["u-2", "u-3"]
    assert intents[0].context["product_name"] == "Stride trail runner"
    assert (intents[0].context["old_price"], intents[0].context["new_price"]) == (
        "99.99 EUR",
        "79.99 EUR",
    )
    assert intents[0].dedupe_key == "price_dropped:SKU-1:u-2:2026-11-05"
    rise = drop.model_copy(update={"old_price_cents": 7999, "new_price_cents": 9999})
    assert _intents(directory, PriceChanged.event_type(), rise.model_dump()) == []


def test_back_in_stock_alerts_wishers_once_a_day_whatever_the_warehouse(
    directory: FakeDirectory,
) -> None:
    first, second = (
        _intents(
            directory,
            BackInStock.event_type(),
            BackInStock(sku="SKU-1", warehouse_id=wh, on_hand=5, reserved=0).model_dump(),
        )
        for wh in ("WH-1", "WH-2")
    )
    assert [i.kind for i in first] == [Kind.BACK_IN_STOCK] * 2
    assert [i.dedupe_key for i in first] == [i.dedupe_key for i in second]
    nobody = BackInStock(sku="SKU-2", warehouse_id="WH-1", on_hand=5, reserved=0)
    assert _intents(directory, BackInStock.event_type(), nobody.model_dump()) == []


def test_only_security_notices_may_be_requested(directory: FakeDirectory) -> None:
    asked = NotificationRequested(user_id="u-1", kind="account_exists")
    (intent,) = _intents(directory, NotificationRequested.event_type(), asked.model_dump())
    assert intent.kind is Kind.ACCOUNT_EXISTS
    assert intent.dedupe_key == "account_exists:u-1:2026-11-05T09"  # one an hour
    assert set(intent.context) == {"login_link", "reset_link"}  # links, nothing of the attempt
    for kind in ("order_confirmed", "nonsense"):
        other = NotificationRequested(user_id="u-1", kind=kind)
        assert _intents(directory, NotificationRequested.event_type(), other.model_dump()) == []


def test_each_rule_reads_a_registered_type_or_one_named_as_expected_elsewhere() -> None:
    unregistered = {event_type for event_type in RULES if event_type not in REGISTRY}
    assert unregistered <= EXPECTED_ELSEWHERE
    assert {rule.event_type for rule in RULES.values()} == set(RULES)


@pytest.mark.parametrize("event_type", sorted(t for t in RULES if t in REGISTRY))
def test_a_rule_reads_every_valid_event_of_its_registered_type(event_type: str) -> None:
    rule = RULES[event_type]
    model = REGISTRY[event_type]
    rng = random.Random(7)
    for _ in range(20):
        data = example_data(model, rng, {"user_id": str(uuid.uuid4())}).model_dump(mode="json")
        rule.view.model_validate(data)  # raises if the view wants what the contract lacks
