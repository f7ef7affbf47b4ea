"""Events to delivery rows on an in-memory directory and ledger: one row per event, channel
and user, channels from preferences, alerts deduplicated, bad and stale events set aside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shoplake.events import CloudEvent
from shoplake.events.base import EventData
from shoplake.events.inventory import BackInStock
from shoplake.events.notification import NotificationRequested
from shoplake.events.order import OrderConfirmed
from shoplake.notifications.contract import Channel
from streaming.notifications.intake import Intake
from streaming.notifications.rules import SHIPMENT_SHIPPED
from tests.support.notifications import FakeDirectory, FakeLedger, ManualClock

NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


def _event(data: EventData, *, at: datetime = NOW) -> CloudEvent:
    return data.to_event("/test", time=at)


@pytest.fixture
def world() -> tuple[FakeDirectory, FakeLedger, Intake]:
    directory = FakeDirectory()
    ledger = FakeLedger(ManualClock())
    intake = Intake(
        directory,
        ledger,
        storefront_url="https://shop.example.com",
        max_event_age_s=3600,
        clock=lambda: NOW,
    )
    return directory, ledger, intake


def _confirmed(user_id: str) -> OrderConfirmed:
    return OrderConfirmed(order_id="o-1", user_id=user_id, total_cents=1000, currency="EUR")


def test_a_redelivered_event_adds_nothing(world: tuple[FakeDirectory, FakeLedger, Intake]) -> None:
    directory, ledger, intake = world
    ada = directory.user(display_name="Ada")
    event = _event(_confirmed(ada.user_id))

    first = intake.take([event])
    again = intake.take([event, event])

    assert (first.added, again.added) == (2, 0)  # e-mail and the in-app feed, once
    assert again.outcomes["duplicates"] == 4
    channels = sorted(row.delivery.channel.value for row in ledger.rows)
    assert channels == ["email", "in_app"]
    email = next(r.delivery for r in ledger.rows if r.delivery.channel is Channel.EMAIL)
    assert email.address == ada.email
    assert "Ada" in email.message.text and "10.00 EUR" in email.message.subject + email.message.text


def test_preferences_choose_the_channels(world: tuple[FakeDirectory, FakeLedger, Intake]) -> None:
    directory, ledger, intake = world
    quiet = directory.user(overrides={"order_confirmed": {"email": False, "in_app": False}})
    texted = directory.user(
        sms_number="+447700900123", overrides={"order_confirmed": {"sms": True, "push": True}}
    )
    no_number = directory.user(overrides={"order_confirmed": {"sms": True}})

    intake.take([_event(_confirmed(u.user_id)) for u in (quiet, texted, no_number)])

    by_user = {
        u.user_id: sorted(
            r.delivery.channel.value for r in ledger.rows if r.delivery.user_id == u.user_id
        )
        for u in (quiet, texted, no_number)
    }
    assert by_user[quiet.user_id] == []
    assert by_user[texted.user_id] == ["email", "in_app", "push", "sms"]
    assert by_user[no_number.user_id] == ["email", "in_app"]  # SMS needs a number
    sms = next(r.delivery for r in ledger.rows if r.delivery.channel is Channel.SMS)
    assert sms.address == "+447700900123" and len(sms.message.short) <= 200


def test_a_security_notice_goes_by_email_whatever_the_preferences(
    world: tuple[FakeDirectory, FakeLedger, Intake],
) -> None:
    directory, ledger, intake = world
    owner = directory.user(overrides={"account_exists": {"email": False}, "x": {"y": True}})
    asked = [
        _event(NotificationRequested(user_id=owner.user_id, kind="account_exists"))
        for _ in range(3)
    ]

    result = intake.take(asked)

    assert [r.delivery.channel for r in ledger.rows] == [Channel.EMAIL]  # once within the hour
    assert result.added == 1


def test_alerts_are_deduplicated_across_events(
    world: tuple[FakeDirectory, FakeLedger, Intake],
) -> None:
    directory, ledger, intake = world
    fan = directory.user()
    directory.wishlists["SKU-1"] = [fan.user_id]
    restocks = [
        _event(BackInStock(sku="SKU-1", warehouse_id=wh, on_hand=3, reserved=0))
        for wh in ("WH-1", "WH-2")
    ]
    intake.take(restocks)
    assert sorted(r.delivery.channel.value for r in ledger.rows) == ["email", "in_app"]
    # The next day is another alert.
    tomorrow = _event(
        BackInStock(sku="SKU-1", warehouse_id="WH-1", on_hand=3, reserved=0),
        at=NOW + timedelta(days=1),
    )
    intake.clock = lambda: NOW + timedelta(days=1)
    assert intake.take([tomorrow]).added == 2


def test_unknown_users_stale_events_and_unruled_types(
    world: tuple[FakeDirectory, FakeLedger, Intake],
) -> None:
    _, ledger, intake = world
    stale = _event(_confirmed("u-gone"), at=NOW - timedelta(hours=2))
    gone = _event(_confirmed("u-gone"))
    unruled = CloudEvent(source="/t", type="shop.catalog.ProductCreated.v1", subject="s", data={})

    result = intake.take([stale, gone, unruled])

    assert (
        result.outcomes["stale"],
        result.outcomes["no_recipient"],
        result.outcomes["no_rule"],
    ) == (1, 1, 1)
    assert ledger.rows == [] and result.rejected == []


def test_an_event_a_rule_cannot_read_is_rejected_with_the_reason(
    world: tuple[FakeDirectory, FakeLedger, Intake],
) -> None:
    _, ledger, intake = world
    broken = CloudEvent(
        source="/t", type=SHIPMENT_SHIPPED, subject="s-1", data={"order_id": "o-1"}, time=NOW
    )

    result = intake.take([broken])

    (rejected,) = result.rejected
    assert rejected.reason == "schema_mismatch" and "shipment_id" in rejected.detail
    assert ledger.rows == []
