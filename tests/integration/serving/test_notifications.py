"""Notifications over HTTP: preferences over the defaults, the in-app feed (keyset pages,
unread count, mark read), and the notice to an account's owner when someone registers with
its e-mail (through the outbox and the consumer to Mailpit)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.payments.card_numbers import card_numbers_in
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events import CloudEvent
from shoplake.notifications.tables import notification_feed
from shoplake.outbox import outbox
from tests.support.callers import Caller
from tests.support.mailpit import Mailbox
from tests.support.notifier import PASSWORD, Topic, make_user

SETTINGS = "/v1/users/me/notifications"
FEED = "/v1/users/me/notifications/feed"


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    made = make_engine(api_settings, pool_size=2)
    yield made
    made.dispose()


def test_preferences_start_from_the_defaults_and_change_per_kind_and_channel(
    client: TestClient, customer: Caller
) -> None:
    first = client.get(SETTINGS, headers=customer.headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["kinds"]["order_shipped"] == {
        "email": True,
        "sms": False,
        "push": False,
        "in_app": True,
    }
    assert body["mandatory"] == {"account_exists": ["email"]} and body["sms_number"] is None
    assert "account_exists" not in body["kinds"]

    no_number = client.patch(
        SETTINGS, headers=customer.headers, json={"kinds": {"order_shipped": {"sms": True}}}
    )
    assert no_number.status_code == 422
    assert no_number.json()["error"]["code"] == "SMS_NUMBER_REQUIRED"

    changed = client.patch(
        SETTINGS,
        headers=customer.headers,
        json={
            "kinds": {"order_shipped": {"sms": True}, "price_dropped": {"email": False}},
            "sms_number": "+447700900123",
        },
    )
    assert changed.status_code == 200, changed.text
    kinds = changed.json()["kinds"]
    assert kinds["order_shipped"] == {"email": True, "sms": True, "push": False, "in_app": True}
    assert kinds["price_dropped"]["email"] is False and kinds["back_in_stock"]["email"] is True
    # Only what is sent changes; the number stays until removed.
    again = client.patch(
        SETTINGS, headers=customer.headers, json={"kinds": {"order_shipped": {"push": True}}}
    )
    assert again.json()["kinds"]["order_shipped"]["sms"] is True
    assert again.json()["sms_number"] == "+447700900123"
    assert client.get(SETTINGS, headers=customer.headers).json() == again.json()

    for bad in (
        {"kinds": {"account_exists": {"email": False}}},  # a security notice
        {"kinds": {"no_such_kind": {"email": False}}},
        {"kinds": {"order_shipped": {"fax": True}}},
        {"sms_number": "0770 090"},
    ):
        refused = client.patch(SETTINGS, headers=customer.headers, json=bad)
        assert refused.status_code == 422, (bad, refused.text)
    removed = client.patch(
        SETTINGS,
        headers=customer.headers,
        json={"kinds": {"order_shipped": {"sms": False}}, "sms_number": None},
    )
    assert removed.status_code == 200 and removed.json()["sms_number"] is None


def _feed(engine: Engine, user_id: str, count: int) -> list[int]:
    with engine.begin() as conn:
        base = int(
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(notification_feed.c.delivery_id), 0))
            ).scalar_one()
        )
        rows = conn.execute(
            notification_feed.insert()
            .values(
                [
                    {
                        "user_id": user_id,
                        "delivery_id": base + 1_000_000 + n,
                        "kind": "order_confirmed",
                        "title": f"Your order o-{n} is confirmed",
                        "body": f"Order o-{n} confirmed",
                        "link": f"https://shop.example.com/orders/o-{n}",
                    }
                    for n in range(count)
                ]
            )
            .returning(notification_feed.c.id)
        ).scalars()
        return list(rows)


def test_the_feed_pages_counts_unread_and_marks_read(
    client: TestClient, customer: Caller, other_customer: Caller, engine: Engine
) -> None:
    ids = _feed(engine, customer.user_id, 5)
    others = _feed(engine, other_customer.user_id, 1)

    first = client.get(FEED, headers=customer.headers, params={"limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [item["id"] for item in page["items"]] == ids[::-1][:2]  # newest first
    assert page["unread_count"] == 5 and page["next_cursor"]
    seen = [item["id"] for item in page["items"]]
    cursor = page["next_cursor"]
    while cursor:
        page = client.get(
            FEED, headers=customer.headers, params={"limit": 2, "cursor": cursor}
        ).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ids[::-1]

    read = client.post(f"{FEED}/{ids[0]}/read", headers=customer.headers)
    assert read.status_code == 200 and read.json()["read"] is True
    again = client.post(f"{FEED}/{ids[0]}/read", headers=customer.headers)
    assert again.json()["read_at"] == read.json()["read_at"]  # read once
    unread = client.get(FEED, headers=customer.headers, params={"unread_only": True}).json()
    assert unread["unread_count"] == 4 and ids[0] not in [i["id"] for i in unread["items"]]
    # Another user's item does not exist for this caller.
    assert client.post(f"{FEED}/{others[0]}/read", headers=customer.headers).status_code == 404
    # A cursor of another query is refused.
    other_query = client.get(
        FEED,
        headers=customer.headers,
        params={"cursor": first.json()["next_cursor"], "unread_only": True},
    )
    assert (
        other_query.status_code == 422 and other_query.json()["error"]["code"] == "INVALID_CURSOR"
    )

    marked = client.post(f"{FEED}/read-all", headers=customer.headers)
    assert marked.json() == {"marked": 4}
    assert client.get(FEED, headers=customer.headers).json()["unread_count"] == 0
    assert client.get(FEED, headers=other_customer.headers).json()["unread_count"] == 1


def _without_boundaries(raw: str) -> str:
    return re.sub(r"=+\d+==", "", raw)


def test_a_registration_with_a_taken_email_tells_the_owner_once_and_leaks_nothing(
    api_settings: Settings,
    engine: Engine,
    client: TestClient,
    unique: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner_id, email = make_user(engine)
    attempts = [f"intruder password {n}" for n in range(3)]
    topic = Topic(api_settings, unique)
    mailbox = Mailbox(api_settings)
    try:
        with caplog.at_level("DEBUG"):
            answers = [
                client.post("/v1/auth/register", json={"email": email, "password": p})
                for p in attempts
            ]
            new = client.post(
                "/v1/auth/register",
                json={"email": f"new-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD},
            )
            # It looks like a new registration: the same status and body, nothing of the owner's.
            assert {a.status_code for a in answers} == {new.status_code} == {202}
            assert all(set(a.json()) == set(new.json()) for a in answers)
            assert all(owner_id not in a.text for a in answers)
            # Nothing was created: the owner's password still works, the attempts' do not.
            login = client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
            assert login.status_code == 200
            assert (
                client.post(
                    "/v1/auth/token", data={"username": email, "password": attempts[0]}
                ).status_code
                == 401
            )
            with engine.connect() as conn:
                asked: list[Any] = list(
                    conn.execute(
                        sa.select(outbox.c.payload).where(
                            outbox.c.key == owner_id,
                            outbox.c.event_type == "shop.notification.NotificationRequested.v1",
                        )
                    ).scalars()
                )
            assert len(asked) == 3
            # What the relay would publish, on a topic of this test's own.
            topic.send(*(CloudEvent.model_validate(payload) for payload in asked))
            topic.consume()

        (mail,) = mailbox.wait_for(email, 1)
        message = mailbox.message(mail["ID"])
        raw = mailbox.raw(mail["ID"])
        assert "tried to create a Shoplake account" in message["Text"]
        time.sleep(1)
        assert len(mailbox.to(email)) == 1  # three attempts within the hour, one notice
        token = login.json()["access_token"]
        for secret in (*attempts, PASSWORD, token):
            assert secret not in raw and secret not in caplog.text
        # MIME boundaries are 19 random digits (Luhn-valid one time in ten): not message text.
        assert card_numbers_in(_without_boundaries(raw)) == []
    finally:
        mailbox.close()
