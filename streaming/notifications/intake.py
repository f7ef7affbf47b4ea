"""From events to delivery rows: the rules decide who hears what, the user's preferences pick
the channels, the templates render the message, and the ledger keeps one row per event,
channel and user.

Pure of Kafka and SMTP: the consumer hands it parsed events, and unit tests run it on an
in-memory directory and ledger.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from jinja2 import TemplateError
from pydantic import ValidationError

from shoplake.events import CloudEvent
from shoplake.notifications.contract import Channel, Overrides, channels_for
from streaming.notifications.ledger import Delivery, Ledger
from streaming.notifications.render import Message, render
from streaming.notifications.rules import RULES, Intent, Lookups, Rule, RuleInput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Contact:
    """How to reach a user and what they asked for."""

    user_id: str
    email: str
    display_name: str = ""
    sms_number: str | None = None
    overrides: Overrides = field(default_factory=dict)


class Directory(Lookups, Protocol):
    def contacts(self, user_ids: Sequence[str]) -> dict[str, Contact]:
        """The users that exist among `user_ids`, with their preferences."""
        ...


@dataclass(frozen=True)
class Rejected:
    """An event the consumer cannot act on, for the dead-letter topic."""

    event: CloudEvent
    reason: str
    detail: str


@dataclass
class IntakeResult:
    outcomes: Counter[str] = field(default_factory=Counter)
    added: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def address_of(contact: Contact, channel: Channel) -> str | None:
    """Where a channel reaches the user; None when it cannot (no number for SMS)."""
    if channel is Channel.EMAIL:
        return contact.email
    if channel is Channel.SMS:
        return contact.sms_number
    if channel is Channel.PUSH:
        return f"user:{contact.user_id}"  # the sandbox fans out to the user's devices
    return contact.user_id


class Intake:
    def __init__(
        self,
        directory: Directory,
        ledger: Ledger,
        *,
        storefront_url: str,
        max_event_age_s: float,
        rules: Mapping[str, Rule[Any]] | None = None,
        renderer: Callable[..., Message] = render,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self.ledger = ledger
        self.storefront_url = storefront_url
        self.max_event_age = timedelta(seconds=max_event_age_s)
        self.rules: Mapping[str, Rule[Any]] = rules if rules is not None else RULES
        self.renderer = renderer
        self.clock = clock

    def take(self, events: Sequence[CloudEvent]) -> IntakeResult:
        """Add the deliveries of these events (one transaction); what happened to each."""
        result = IntakeResult()
        new: list[Delivery] = []
        for event in events:
            new.extend(self._deliveries(event, result))
        result.added = self.ledger.add(new)
        result.outcomes["deliveries"] += len(new)
        result.outcomes["duplicates"] += len(new) - result.added
        return result

    def _deliveries(self, event: CloudEvent, result: IntakeResult) -> list[Delivery]:
        rule = self.rules.get(event.type)
        if rule is None:
            result.outcomes["no_rule"] += 1
            return []
        # A message about something long past helps nobody (and a new consumer group reading
        # a topic from its start must not mail the whole history).
        if self.clock() - event.time > self.max_event_age:
            result.outcomes["stale"] += 1
            return []
        given = RuleInput(event.id, event.time, self.directory, self.storefront_url)
        try:
            intents = rule.intents(event, given)
        except ValidationError as exc:
            result.rejected.append(Rejected(event, "schema_mismatch", _fields_at_fault(exc)))
            return []
        if not intents:
            result.outcomes["no_recipient"] += 1
            return []
        contacts = self.directory.contacts(sorted({intent.user_id for intent in intents}))
        out: list[Delivery] = []
        for intent in intents:
            contact = contacts.get(intent.user_id)
            if contact is None:  # the account is gone
                result.outcomes["no_recipient"] += 1
                continue
            try:
                out.extend(self._for_contact(event, intent, contact))
            except TemplateError as exc:
                result.rejected.append(Rejected(event, "render_failed", _first_line(exc)))
                return []
            result.outcomes["intents"] += 1
        return out

    def _for_contact(self, event: CloudEvent, intent: Intent, contact: Contact) -> list[Delivery]:
        channels = channels_for(intent.kind, contact.overrides)
        reachable = [
            (channel, address)
            for channel in sorted(channels)
            if (address := address_of(contact, channel)) is not None
        ]
        if not reachable:
            return []
        user_name = contact.display_name or contact.email.partition("@")[0]
        message = self.renderer(intent.kind, {**intent.context, "user_name": user_name})
        return [
            Delivery(
                event_id=event.id,
                event_type=event.type,
                kind=intent.kind,
                channel=channel,
                user_id=contact.user_id,
                address=address,
                message=message,
                dedupe_key=intent.dedupe_key,
            )
            for channel, address in reachable
        ]


def _fields_at_fault(exc: ValidationError) -> str:
    """'shipment_id: Field required; ...' (never the values: they may be anything)."""
    return "; ".join(
        f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
    )[:500]


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:500]
