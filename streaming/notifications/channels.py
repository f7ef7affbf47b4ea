"""Channels behind one Protocol: e-mail over real SMTP, SMS and push through sandboxes that
record what they would send, and the in-app feed.

A channel either hands the message over or raises one of three errors, which decide what the
sender does next:
- `NotSent`: the channel could not be reached and nothing left (connection refused, bad
  credentials): an outage. The message waits, no attempt is counted: an outage delays mail
  and loses none.
- `TransientFailure`: the channel answered "later" (a 4xx) or the connection died mid-way, so
  the outcome is unknown: retried with backoff, counted, dead-lettered after the last attempt.
- `PermanentFailure`: the channel refused it for good (a 5xx, an invalid number): dead letters.
"""

from __future__ import annotations

import fcntl
import json
import smtplib
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Protocol

from shoplake.config import Settings
from shoplake.notifications.contract import Channel
from streaming.notifications.ledger import Claimed


class SendError(Exception):
    """Why a message did not go out; the subclass says what happens to it."""


class NotSent(SendError):
    """The channel is unreachable; nothing was sent."""


class TransientFailure(SendError):
    """Try again later (a temporary refusal, or an unknown outcome)."""


class PermanentFailure(SendError):
    """The channel will never take this message."""


class ChannelAdapter(Protocol):
    channel: Channel

    def send(self, delivery: Claimed) -> None:
        """Hand the message over, or raise NotSent, TransientFailure or PermanentFailure."""
        ...

    def close(self) -> None: ...


class _ConnectionLost(Exception):
    """The SMTP connection failed mid-way (it is closed)."""


def _by_reply(code: int, reply: bytes | str) -> SendError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return PermanentFailure(f"{code} {text}") if code >= 500 else TransientFailure(f"{code} {text}")


class SmtpChannel:
    """E-mail over one reused SMTP connection (rebuilt after any failure).

    Each message's Message-ID is derived from its delivery key (event x user), so a retry
    after an unanswered DATA carries the same id and a receiver that drops duplicate ids
    (Mailpit with --ignore-duplicate-ids, most mail stores) keeps one copy.
    """

    channel = Channel.EMAIL

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        timeout_s: float,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
    ) -> None:
        self.host, self.port = host, port
        self.sender = sender
        self.timeout_s = timeout_s
        self.username, self.password = username, password
        self.starttls = starttls
        self.domain = parseaddr(sender)[1].rpartition("@")[2] or "shoplake.dev"
        self._smtp: smtplib.SMTP | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpChannel:
        host, port = settings.smtp_endpoint
        relay = settings.smtp_host is not None
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            host,
            port,
            sender=settings.notify_email_from,
            timeout_s=settings.smtp_timeout_s,
            username=settings.smtp_username,
            password=password,
            starttls=relay and settings.smtp_starttls,
        )

    def message_id(self, delivery: Claimed) -> str:
        return f"<{delivery.event_id}.{delivery.user_id}@{self.domain}>"

    def build(self, delivery: Claimed) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = delivery.address
        email["Subject"] = delivery.message.subject
        email["Message-ID"] = self.message_id(delivery)
        email["Date"] = format_datetime(datetime.now(UTC))
        email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        email["X-Shoplake-Kind"] = delivery.kind
        email.set_content(delivery.message.text)
        email.add_alternative(delivery.message.html, subtype="html")
        return email

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        try:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username is not None:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _connection(self) -> tuple[smtplib.SMTP, bool]:
        """The open connection and whether it is new; NotSent when none can be made."""
        if self._smtp is not None:
            return self._smtp, False
        try:
            self._smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise NotSent(f"SMTP server {self.host}:{self.port} unreachable: {exc}") from exc
        return self._smtp, True

    def send(self, delivery: Claimed) -> None:
        email = self.build(delivery)
        smtp, fresh = self._connection()
        try:
            self._transmit(smtp, email)
        except _ConnectionLost as exc:
            if fresh:  # the server went away during this transaction: outcome unknown
                raise TransientFailure(f"SMTP connection lost: {exc}") from exc
            # An old connection the server closed meanwhile (idle, restarted): once more on a
            # new one; the Message-ID guards against a second copy.
            smtp, _ = self._connection()
            try:
                self._transmit(smtp, email)
            except _ConnectionLost as again:
                raise TransientFailure(f"SMTP connection lost: {again}") from again

    def _transmit(self, smtp: smtplib.SMTP, email: EmailMessage) -> None:
        try:
            smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = min(exc.recipients.values())
            raise _by_reply(code, text) from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused...
            raise _by_reply(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise _ConnectionLost(str(exc)) from exc

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


# Magic numbers of the SMS sandbox (after Twilio's test numbers): refused for good, and never
# reachable; every other number is recorded as sent.
SANDBOX_INVALID_NUMBER = "+15005550001"
SANDBOX_UNREACHABLE_NUMBER = "+15005550009"


def sandbox_dir(settings: Settings) -> Path:
    return settings.state_dir / "sandbox" / "notifications"


class SandboxRecorder:
    """SMS or push that records what it would send, one JSON line per message, in
    `<state>/sandbox/notifications/<channel>.jsonl` (locked, so several senders may write)."""

    def __init__(self, channel: Channel, folder: Path) -> None:
        self.channel = channel
        self.path = folder / f"{channel.value}.jsonl"

    def send(self, delivery: Claimed) -> None:
        if self.channel is Channel.SMS and delivery.address == SANDBOX_INVALID_NUMBER:
            raise PermanentFailure("sandbox: not a mobile number")
        if self.channel is Channel.SMS and delivery.address == SANDBOX_UNREACHABLE_NUMBER:
            raise TransientFailure("sandbox: the carrier cannot reach this number now")
        record = {
            "delivery_id": delivery.id,
            "event_id": delivery.event_id,
            "kind": delivery.kind,
            "user_id": delivery.user_id,
            "to": delivery.address,
            "title": delivery.message.subject,
            "body": delivery.message.short,
            "link": delivery.message.link,
            "at": datetime.now(UTC).isoformat(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self.path.open("a", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            file.write(line)

    def close(self) -> None:
        """Nothing held open."""


def recorded(settings: Settings, channel: Channel) -> Iterator[dict[str, Any]]:
    """What the sandbox of a channel recorded, oldest first."""
    path = sandbox_dir(settings) / f"{channel.value}.jsonl"
    if not path.exists():
        return
    with path.open(encoding="utf-8") as file:
        for line in file:
            if line.strip():
                yield json.loads(line)


class InAppChannel:
    """The in-app feed (read by the feed route of serving). Its message is the feed row, which
    the ledger writes in the transaction that marks the delivery sent: exactly once, with no
    window between the two."""

    channel = Channel.IN_APP

    def send(self, delivery: Claimed) -> None:
        """Nothing to hand over: the ledger writes the row when it settles the delivery."""

    def close(self) -> None:
        """Nothing held open."""


def make_channels(settings: Settings) -> dict[Channel, ChannelAdapter]:
    folder = sandbox_dir(settings)
    return {
        Channel.EMAIL: SmtpChannel.from_settings(settings),
        Channel.SMS: SandboxRecorder(Channel.SMS, folder),
        Channel.PUSH: SandboxRecorder(Channel.PUSH, folder),
        Channel.IN_APP: InAppChannel(),
    }
