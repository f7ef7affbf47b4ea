"""Sending on scripted channels: sent once, retried with backoff, dead-lettered with the reason,
and an outage that delays every message without losing or counting any."""

from __future__ import annotations

import pytest

from shoplake.notifications.contract import Channel, Kind
from shoplake.resilience import BreakerState, CircuitBreaker
from streaming.notifications.ledger import Delivery
from streaming.notifications.render import Message
from streaming.notifications.sender import RetryPolicy, Sender
from tests.support.notifications import DeadLetterList, FakeLedger, ManualClock, ScriptedChannel

MESSAGE = Message(subject="Hi", text="Hello", html="<p>Hello</p>", short="Hello", link=None)


class World:
    def __init__(self) -> None:
        self.clock = ManualClock()
        self.ledger = FakeLedger(self.clock)
        self.email = ScriptedChannel(Channel.EMAIL)
        self.letters = DeadLetterList()
        self.breaker = CircuitBreaker(failures_to_open=2, cooldown_s=5.0, clock=self.clock)
        self.sender = Sender(
            self.ledger,
            {Channel.EMAIL: self.email},
            self.letters,
            policy=RetryPolicy(max_attempts=3, backoff_s=1.0, max_backoff_s=60.0),
            breakers={Channel.EMAIL: self.breaker},
            batch=10,
        )

    def add(self, *addresses: str) -> None:
        start = len(self.ledger.rows)
        self.ledger.add(
            [
                Delivery(
                    f"event-{start + n}",
                    "shop.order.OrderConfirmed.v1",
                    Kind.ORDER_CONFIRMED,
                    Channel.EMAIL,
                    f"user-{start + n}",
                    address,
                    MESSAGE,
                )
                for n, address in enumerate(addresses)
            ]
        )


@pytest.fixture
def world() -> World:
    return World()


def test_a_message_is_sent_once(world: World) -> None:
    world.add("ada@example.com")
    assert world.sender.run_once() == 1
    assert world.sender.run_once() == 0
    assert [d.address for d in world.email.sent] == ["ada@example.com"]
    assert world.ledger.events == [("sent", 1, None)]


def test_a_temporary_refusal_is_retried_with_backoff_then_dead_lettered(world: World) -> None:
    world.add("later@example.com")
    world.email.script["later@example.com"] = "transient"
    dues = []
    for _ in range(3):
        world.sender.run_once()
        row = world.ledger.rows[0]
        dues.append(row.due_at - world.clock())
        world.clock.advance(max(row.due_at - world.clock(), 0) + 0.1)
    assert dues[:2] == [1.0, 2.0]  # 1 s, then doubled
    assert world.ledger.statuses() == {"failed": 1}
    ((key, letter),) = world.letters.letters
    assert key == "event-0"
    assert letter["reason"] == "delivery_failed" and "451" in letter["detail"]
    assert letter["attempts"] == 3 and letter["channel"] == "email"
    assert "later@example.com" not in str(letter) and "Hello" not in str(
        letter
    )  # no address, no text


def test_a_permanent_refusal_is_dead_lettered_at_once(world: World) -> None:
    world.add("nobody@example.com", "ada@example.com")
    world.email.script["nobody@example.com"] = "permanent"
    assert world.sender.run_once() == 2
    assert world.ledger.statuses() == {"failed": 1, "sent": 1}
    assert world.letters.letters[0][1]["detail"].startswith("550")


def test_an_outage_delays_everything_and_counts_nothing(world: World) -> None:
    world.add("a@example.com", "b@example.com", "c@example.com")
    world.email.down = True
    for _ in range(30):  # 30 s of an SMTP server that refuses connections
        world.sender.run_once()
        world.clock.advance(1.0)
    # Each round stops at its first refusal and puts everything back for the breaker's
    # cooldown, so the server is tried about once per cooldown, and no message lost an attempt.
    assert 1 < world.email.calls <= 7
    assert all(row.attempts == 0 and row.status == "pending" for row in world.ledger.rows)
    assert world.letters.letters == [] and world.email.sent == []

    world.email.down = False
    world.clock.advance(10)
    world.sender.run_once()
    assert world.breaker.state is BreakerState.CLOSED
    assert sorted(d.address for d in world.email.sent) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert world.ledger.statuses() == {"sent": 3}


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(max_attempts=10, backoff_s=1.0, max_backoff_s=30.0)
    assert [policy.delay(n) for n in (1, 2, 3, 5, 9)] == [1.0, 2.0, 4.0, 16.0, 30.0]
