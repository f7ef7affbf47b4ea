"""The stack's Mailpit: reachable by SMTP and HTTP, never asks GitHub for releases, and keeps
one copy of a message sent twice with one Message-ID (what a retry after a lost reply does)."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage

import httpx

from shoplake.config import Settings
from shoplake.stack import Stack
from tests.support.mailpit import Mailbox


def test_the_version_check_is_off(stack: Stack, settings: Settings) -> None:
    info = httpx.get(f"{settings.mailpit_endpoint}/api/v1/info", timeout=5).json()
    assert info["Version"] == "v1.33.1" and info["LatestVersion"] == "disabled"
    assert httpx.get(f"{settings.mailpit_endpoint}/readyz", timeout=5).status_code == 200


def test_a_message_sent_twice_with_one_id_is_kept_once(stack: Stack, settings: Settings) -> None:
    to = f"dup-{uuid.uuid4().hex[:8]}@example.com"
    message = EmailMessage()
    message["From"] = settings.notify_email_from
    message["To"] = to
    message["Subject"] = "twice"
    message["Message-ID"] = f"<{uuid.uuid4()}@shoplake.dev>"
    message.set_content("the same message")
    host, port = settings.smtp_endpoint
    for _ in range(2):
        with smtplib.SMTP(host, port, timeout=5) as smtp:
            smtp.send_message(message)
    box = Mailbox(settings)
    try:
        assert len(box.wait_for(to, 1)) == 1
    finally:
        box.close()
