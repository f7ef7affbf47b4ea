"""Hands due deliveries to their channels: retries with backoff, dead letters, outages.

Per channel and round: claim due deliveries (a lease each), send them one by one, and settle
each as the channel's answer says (see `channels`):
- sent → marked sent (NotificationSent), `settle_every` at a time in one transaction: a sender
  killed before it settles re-sends at most that many after the lease (with the same
  Message-ID), and a sender that stops settles first;
- NotSent (the channel is down) → put back without counting an attempt, and the channel's
  circuit breaker opens after a few in a row: no claims for it until one trial goes through,
  so mail waits for the server instead of burning its attempts;
- TransientFailure → retried after `backoff_s · 2^(attempt-1)` (capped) until `max_attempts`,
  then failed;
- PermanentFailure → failed at once.
A failed delivery goes to the dead-letter topic with its reason first, then is marked failed
(NotificationFailed): a crash in between repeats the dead letter, never loses it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from shoplake.notifications.contract import Channel
from shoplake.resilience import BreakerState, CircuitBreaker
from streaming.notifications.channels import (
    ChannelAdapter,
    NotSent,
    PermanentFailure,
    TransientFailure,
)
from streaming.notifications.ledger import Claimed, Ledger

log = logging.getLogger(__name__)

CONSUMER = "shoplake-notifications"


class DeadLetters(Protocol):
    def publish(self, key: str, value: dict[str, Any]) -> None:
        """Deliver the dead letter (acknowledged) or raise."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff_s: float
    max_backoff_s: float

    def delay(self, attempts: int) -> float:
        """The wait after the `attempts`-th failed attempt."""
        return float(min(self.backoff_s * 2.0 ** max(attempts - 1, 0), self.max_backoff_s))


def dead_letter(claimed: Claimed, reason: str) -> dict[str, Any]:
    """The dead letter of a delivery: what and why, never the address or the text."""
    return {
        "reason": "delivery_failed",
        "detail": reason,
        "consumer": CONSUMER,
        "delivery_id": claimed.id,
        "event_id": claimed.event_id,
        "event_type": claimed.event_type,
        "kind": claimed.kind,
        "channel": claimed.channel.value,
        "user_id": claimed.user_id,
        "attempts": claimed.attempts + 1,
    }


class Sender:
    def __init__(
        self,
        ledger: Ledger,
        channels: Mapping[Channel, ChannelAdapter],
        dead_letters: DeadLetters,
        *,
        policy: RetryPolicy,
        breakers: Mapping[Channel, CircuitBreaker],
        batch: int,
        settle_every: int = 25,
    ) -> None:
        self.ledger = ledger
        self.channels = channels
        self.dead_letters = dead_letters
        self.policy = policy
        self.breakers = breakers
        self.batch = batch
        self.settle_every = settle_every
        self.stats: Counter[str] = Counter()

    def run_once(self) -> int:
        """One round over every channel; the number of deliveries settled (sent or failed)."""
        return sum(self._channel_round(channel) for channel in self.channels)

    def _channel_round(self, channel: Channel) -> int:
        breaker = self.breakers[channel]
        if breaker.state is BreakerState.OPEN:
            return 0
        claimed = self.ledger.claim(channel, self.batch)
        settled = 0
        sent: list[Claimed] = []
        try:
            for position, delivery in enumerate(claimed):
                if not breaker.allow():  # half-open and another call is the trial
                    self._put_back(claimed[position:], "the channel is paused after an outage")
                    break
                try:
                    self.channels[channel].send(delivery)
                except NotSent as exc:
                    breaker.record_failure()
                    log.warning("notifications: %s down: %s", channel.value, exc)
                    self._put_back(claimed[position:], str(exc))
                    self.stats["deferred"] += len(claimed) - position
                    break
                except TransientFailure as exc:
                    breaker.record_success()  # the channel answered
                    settled += self._retry_or_fail(delivery, str(exc))
                except PermanentFailure as exc:
                    breaker.record_success()
                    settled += self._fail(delivery, str(exc))
                else:
                    breaker.record_success()
                    sent.append(delivery)
                    if len(sent) >= self.settle_every:
                        settled += self._settle(sent)
        finally:
            settled += self._settle(sent)  # what went out is settled whatever happens next
        return settled

    def _settle(self, sent: list[Claimed]) -> int:
        done = self.ledger.mark_sent(sent)
        self.stats["sent"] += done
        count = len(sent)
        sent.clear()
        return count

    def _put_back(self, claimed: list[Claimed], error: str) -> None:
        delay = self.breakers[claimed[0].channel].cooldown_s if claimed else 0.0
        for delivery in claimed:
            self.ledger.reschedule(delivery, delay, error, count_attempt=False)

    def _retry_or_fail(self, delivery: Claimed, error: str) -> int:
        attempts = delivery.attempts + 1
        if attempts >= self.policy.max_attempts:
            return self._fail(delivery, f"{error} (after {attempts} attempts)")
        self.ledger.reschedule(delivery, self.policy.delay(attempts), error, count_attempt=True)
        self.stats["retried"] += 1
        return 0

    def _fail(self, delivery: Claimed, reason: str) -> int:
        self.dead_letters.publish(delivery.event_id, dead_letter(delivery, reason))
        if self.ledger.mark_failed(delivery, reason):
            self.stats["failed"] += 1
        log.warning(
            "notifications: delivery %s (%s, %s) dead-lettered: %s",
            delivery.id,
            delivery.kind,
            delivery.channel.value,
            reason,
        )
        return 1

    def close(self) -> None:
        for adapter in self.channels.values():
            adapter.close()
