"""The notification consumer over real Kafka, Postgres and Mailpit: one e-mail per event and
user however often the event comes and however many consumers run; Mailpit down then up
delivers every mail once; failures retry and end in the dead-letter topic with the reason."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events import CloudEvent
from shoplake.events.notification import NotificationFailed, NotificationSent
from shoplake.events.payment import PaymentDeclined
from shoplake.notifications.contract import Channel
from shoplake.notifications.tables import (
    notification_deliveries,
    notification_feed,
)
from shoplake.outbox import outbox
from shoplake.stack import Stack
from shoplake.stack.service import LocalService
from streaming.notifications.channels import SANDBOX_UNREACHABLE_NUMBER, recorded
from streaming.notifications.consumer import NotifierStats
from streaming.notifications.rules import SHIPMENT_SHIPPED
from tests.support.mailpit import Mailbox
from tests.support.notifier import Topic, confirmed, fresh, make_user

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def engine(settings: Settings) -> Iterator[Engine]:
    made = make_engine(settings, pool_size=2)
    yield made
    made.dispose()


@pytest.fixture
def mailbox(settings: Settings) -> Iterator[Mailbox]:
    box = Mailbox(settings)
    yield box
    box.chaos()  # whatever a test switched on
    box.close()


@pytest.fixture
def fast(settings: Settings) -> Settings:
    """Short retries and cooldowns, so failure paths finish in seconds."""
    return settings.model_copy(
        update={
            "notify_retry_backoff_s": 0.2,
            "notify_retry_max_backoff_s": 1.0,
            "notify_max_attempts": 3,
            "notify_breaker_failures": 2,
            "notify_breaker_open_s": 1.0,
        }
    )


@pytest.fixture
def topic(settings: Settings, unique: str) -> Topic:
    return Topic(settings, unique)


def _deliveries(engine: Engine, user_id: str) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(notification_deliveries).where(
                    notification_deliveries.c.user_id == user_id
                )
            )
        )


def _reported(engine: Engine, user_id: str) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.event_type).where(
                outbox.c.key == user_id, outbox.c.topic == "shop.notification.v1"
            )
        ).scalars()
        return sorted(rows)


def test_a_redelivered_event_a_restart_and_two_consumers_send_one_email(
    settings: Settings, engine: Engine, mailbox: Mailbox, topic: Topic
) -> None:
    user_id, email = make_user(engine)
    event = confirmed(user_id)
    topic.send(event, event)  # the relay delivered it twice

    stats = topic.consume()
    assert stats.intake["deliveries"] == 4 and stats.intake["duplicates"] == 2  # e-mail + feed

    # A consumer that starts over (a new group reads the topic again from the start)...
    topic.consume()
    # ...and two consumers at once, both reading everything: still one message.
    runs = [threading.Thread(target=topic.consume) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(60)

    mails = mailbox.wait_for(email, 1)
    assert len(mails) == 1
    message = mailbox.message(mails[0]["ID"])
    assert message["Subject"].startswith("Your order") and "45.99 EUR" in message["Text"]
    assert "Ada" in message["HTML"] and message["MessageID"].startswith(event.id)
    time.sleep(1.0)  # anything late would show now
    assert len(mailbox.to(email)) == 1
    rows = _deliveries(engine, user_id)
    assert sorted((r.channel, r.status) for r in rows) == [("email", "sent"), ("in_app", "sent")]
    with engine.connect() as conn:
        feed = (
            conn.execute(
                sa.select(notification_feed.c.title).where(notification_feed.c.user_id == user_id)
            )
            .scalars()
            .all()
        )
    assert len(feed) == 1 and feed[0] == message["Subject"]
    # Each message is reported once for the lake.
    assert _reported(engine, user_id) == [NotificationSent.event_type()] * 2


def test_shipments_and_payments_reach_the_orders_customer_by_the_channels_chosen(
    settings: Settings, engine: Engine, mailbox: Mailbox, topic: Topic
) -> None:
    user_id, email = make_user(
        engine,
        channels={"order_shipped": {"sms": True, "push": True}, "payment_failed": {"email": False}},
        sms_number="+447700900777",
    )
    order_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into orders (id, user_id, status, currency, subtotal_cents, "
                "discount_cents, total_cents, shipping_address, idempotency_key) values "
                "(:id, :user, 'SHIPPED', 'EUR', 1000, 0, 1000, '{}', :key)"
            ),
            {"id": order_id, "user": user_id, "key": f"test-{uuid.uuid4()}"},
        )
    # A type this build does not register: read by the names the rule expects.
    shipped = CloudEvent(
        source="/test",
        type=SHIPMENT_SHIPPED,
        subject=order_id,
        data={
            "shipment_id": "shp-1",
            "order_id": order_id,
            "carrier": "sandbox",
            "tracking_number": "SBX123456",
            "weight_grams": 1200,
        },
    )
    declined = fresh(
        PaymentDeclined(
            payment_id="p-1",
            order_id=order_id,
            amount_cents=1000,
            currency="EUR",
            gateway="sandbox",
            reason="card_declined",
        )
    )
    topic.send(shipped, declined)

    topic.consume()

    (mail,) = mailbox.wait_for(email, 1)
    body = mailbox.message(mail["ID"])
    assert "SBX123456" in body["Text"] and f"/orders/{order_id}/tracking" in body["Text"]
    sms = [r for r in recorded(settings, Channel.SMS) if r["user_id"] == user_id]
    push = [r for r in recorded(settings, Channel.PUSH) if r["user_id"] == user_id]
    assert [r["to"] for r in sms] == ["+447700900777"] and "SBX123456" in sms[0]["body"]
    assert [r["to"] for r in push] == [f"user:{user_id}"]
    kinds = sorted((r.kind, r.channel) for r in _deliveries(engine, user_id))
    assert kinds == [
        ("order_shipped", "email"),
        ("order_shipped", "in_app"),
        ("order_shipped", "push"),
        ("order_shipped", "sms"),
        ("payment_failed", "in_app"),  # e-mail switched off for this kind
    ]


def test_refused_messages_retry_with_backoff_and_end_in_dead_letters(
    fast: Settings, engine: Engine, mailbox: Mailbox, topic: Topic
) -> None:
    refused_id, refused_email = make_user(engine)
    unreachable_id, _ = make_user(
        engine,
        channels={"order_confirmed": {"sms": True, "email": False, "in_app": False}},
        sms_number=SANDBOX_UNREACHABLE_NUMBER,
    )
    topic.send(confirmed(refused_id), confirmed(unreachable_id))
    topic.send(CloudEvent(source="/t", type=SHIPMENT_SHIPPED, subject="x", data={"order_id": "x"}))
    topic.send_raw((b"junk", b"{not json"))
    mailbox.chaos(Recipient={"ErrorCode": 550, "Probability": 100})
    try:
        stats = topic.consume(fast, stop_after_idle_s=4.0)
    finally:
        mailbox.chaos()

    assert mailbox.to(refused_email) == []
    letters = {
        letter.get("user_id") or letter["reason"]: letter for letter in topic.dead_letters(4)
    }
    assert letters[refused_id]["detail"].startswith("550")  # refused for good: no retry
    assert letters[refused_id]["attempts"] == 1
    assert letters[unreachable_id]["attempts"] == 3  # retried, then given up
    assert "cannot reach" in letters[unreachable_id]["detail"]
    assert "shipment_id" in letters["schema_mismatch"]["detail"]
    assert letters["unreadable"]["original"] == "{not json"  # bronze's dead-letter shape
    assert stats.dead_letters == 2 and stats.sent["failed"] >= 2
    assert [r.status for r in _deliveries(engine, unreachable_id)] == ["failed"]
    assert _reported(engine, refused_id) == [
        NotificationFailed.event_type(),
        NotificationSent.event_type(),
    ]
    assert all(refused_email not in json.dumps(letter) for letter in letters.values())


@pytest.fixture
def mailpit(stack: Stack) -> Iterator[LocalService]:
    service = stack.service("mailpit")
    try:
        yield service
    finally:
        service.start(lambda _m: None)  # a no-op when it already runs


@pytest.mark.stack_lifecycle
def test_mailpit_down_then_up_delivers_every_mail_once(
    fast: Settings, engine: Engine, mailbox: Mailbox, topic: Topic, mailpit: LocalService
) -> None:
    users = [make_user(engine) for _ in range(3)]
    events = [
        confirmed(user_id, total) for user_id, _ in users for total in (1000, 2000, 3000, 4000)
    ]
    assert mailpit.stop()
    topic.send(*events)
    stop = threading.Event()
    found: list[NotifierStats] = []
    consumer = threading.Thread(
        target=lambda: found.append(topic.consume(fast, stop=stop, stop_after_idle_s=None))
    )
    consumer.start()
    try:
        # Long enough for one rejoin (shoplake.kafka.REJOIN_AFTER_S) if the consumer's first
        # assignment comes empty, as it did once in CI.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # every mail is in the ledger, none is sent
            with engine.connect() as conn:
                waiting = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(notification_deliveries)
                    .where(
                        notification_deliveries.c.user_id.in_([u for u, _ in users]),
                        notification_deliveries.c.channel == "email",
                        notification_deliveries.c.status == "pending",
                    )
                ).scalar_one()
            if waiting == len(events):
                break
            time.sleep(0.3)
        assert waiting == len(events)
        time.sleep(3)  # down for a while: several rounds of the breaker
        mailpit.start(lambda _m: None)
        for _, email in users:
            assert len(mailbox.wait_for(email, 4, timeout_s=60)) == 4
    finally:
        stop.set()
        consumer.join(30)
    time.sleep(1)
    for user_id, email in users:
        assert len(mailbox.to(email)) == 4  # once each
        assert {r.status for r in _deliveries(engine, user_id)} == {"sent"}
        assert all(r.attempts <= 1 for r in _deliveries(engine, user_id) if r.channel == "email")
    assert topic.dead_letters(0) == []
