"""The notification consumer's world in memory: a directory of users, orders, wishlists and
products; a delivery ledger with the real one's unique keys, due times and claims; channels
that record or fail as scripted; dead letters kept in a list; and a clock moved by hand."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shoplake.notifications.contract import Channel
from streaming.notifications.channels import NotSent, PermanentFailure, TransientFailure
from streaming.notifications.intake import Contact
from streaming.notifications.ledger import Claimed, Delivery
from streaming.notifications.rules import OrderSummary


class ManualClock:
    """Seconds that move only when the test says so (the breaker's and the ledger's clock)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeDirectory:
    contacts_by_id: dict[str, Contact] = field(default_factory=dict)
    orders: dict[str, OrderSummary] = field(default_factory=dict)
    wishlists: dict[str, list[str]] = field(default_factory=dict)  # sku → user ids
    products: dict[str, str] = field(default_factory=dict)  # sku → name

    def user(self, **fields: Any) -> Contact:
        user_id = fields.pop("user_id", str(uuid.uuid4()))
        contact = Contact(
            user_id=user_id, email=fields.pop("email", f"{user_id[:8]}@example.com"), **fields
        )
        self.contacts_by_id[user_id] = contact
        return contact

    def order(self, order_id: str) -> OrderSummary | None:
        return self.orders.get(order_id)

    def wishers(self, sku: str) -> list[str]:
        return list(self.wishlists.get(sku, []))

    def product_name(self, sku: str) -> str | None:
        return self.products.get(sku)

    def contacts(self, user_ids: Sequence[str]) -> dict[str, Contact]:
        return {u: self.contacts_by_id[u] for u in user_ids if u in self.contacts_by_id}


@dataclass
class _Row:
    id: int
    delivery: Delivery
    status: str = "pending"
    attempts: int = 0
    due_at: float = 0.0
    lease_until: float | None = None
    token: str | None = None
    last_error: str | None = None


class FakeLedger:
    """The delivery ledger in memory, with the SQL one's rules: both unique keys, due times,
    leases, and settling only by the claim's holder. `events` are the reported facts."""

    def __init__(self, clock: ManualClock, lease_s: float = 60.0) -> None:
        self.clock = clock
        self.lease_s = lease_s
        self.rows: list[_Row] = []
        self.events: list[tuple[str, int, str | None]] = []  # (sent|failed, id, reason)

    def add(self, new: Sequence[Delivery]) -> int:
        added = 0
        for delivery in new:
            taken = any(
                (r.delivery.event_id, r.delivery.channel, r.delivery.user_id)
                == (delivery.event_id, delivery.channel, delivery.user_id)
                or (
                    delivery.dedupe_key is not None
                    and (r.delivery.dedupe_key, r.delivery.channel)
                    == (delivery.dedupe_key, delivery.channel)
                )
                for r in self.rows
            )
            if not taken:
                self.rows.append(_Row(len(self.rows) + 1, delivery, due_at=self.clock()))
                added += 1
        return added

    def claim(self, channel: Channel, limit: int) -> list[Claimed]:
        now = self.clock()
        token = uuid.uuid4().hex
        claimed: list[Claimed] = []
        for row in self.rows:
            if len(claimed) >= limit or row.delivery.channel is not channel:
                continue
            due = row.status == "pending" and row.due_at <= now
            stale = (
                row.status == "sending" and row.lease_until is not None and row.lease_until < now
            )
            if not (due or stale):
                continue
            row.status, row.token, row.lease_until = "sending", token, now + self.lease_s
            d = row.delivery
            claimed.append(
                Claimed(
                    row.id,
                    d.event_id,
                    d.event_type,
                    d.kind.value,
                    d.channel,
                    d.user_id,
                    d.address,
                    d.message,
                    row.attempts,
                    token,
                )
            )
        return claimed

    def _held(self, claimed: Claimed) -> _Row | None:
        row = self.rows[claimed.id - 1]
        return row if row.status == "sending" and row.token == claimed.token else None

    def mark_sent(self, claimed: Sequence[Claimed]) -> int:
        done = 0
        for delivery in claimed:
            row = self._held(delivery)
            if row is None:
                continue
            row.status, row.attempts, row.token = "sent", row.attempts + 1, None
            self.events.append(("sent", row.id, None))
            done += 1
        return done

    def reschedule(
        self, claimed: Claimed, delay_s: float, error: str, *, count_attempt: bool
    ) -> None:
        row = self._held(claimed)
        if row is None:
            return
        row.status, row.token, row.last_error = "pending", None, error
        row.due_at = self.clock() + delay_s
        row.attempts += 1 if count_attempt else 0

    def mark_failed(self, claimed: Claimed, reason: str) -> bool:
        row = self._held(claimed)
        if row is None:
            return False
        row.status, row.attempts, row.token, row.last_error = (
            "failed",
            row.attempts + 1,
            None,
            reason,
        )
        self.events.append(("failed", row.id, reason))
        return True

    def waiting(self) -> int:
        return sum(r.status in ("pending", "sending") for r in self.rows)

    def statuses(self) -> Counter[str]:
        return Counter(r.status for r in self.rows)


class ScriptedChannel:
    """A channel that records what it is given; `script` maps an address to the failure it
    raises ('not_sent', 'transient', 'permanent'), `down` makes every send NotSent."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.sent: list[Claimed] = []
        self.script: dict[str, str] = {}
        self.down = False
        self.calls = 0

    def send(self, delivery: Claimed) -> None:
        self.calls += 1
        if self.down:
            raise NotSent("the fake server is down")
        failure = self.script.get(delivery.address)
        if failure == "transient":
            raise TransientFailure("451 try later")
        if failure == "permanent":
            raise PermanentFailure("550 no such mailbox")
        if failure == "not_sent":
            raise NotSent("connection refused")
        self.sent.append(delivery)

    def close(self) -> None:
        """Nothing held."""


@dataclass
class DeadLetterList:
    letters: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def publish(self, key: str, value: dict[str, Any]) -> None:
        self.letters.append((key, value))
