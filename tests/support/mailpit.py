"""The stack's Mailpit as tests read it: through its HTTP API (what was delivered, to whom),
and its chaos switch (SMTP errors on purpose)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from shoplake.config import Settings


class Mailbox:
    def __init__(self, settings: Settings) -> None:
        self.client = httpx.Client(base_url=f"{settings.mailpit_endpoint}/api/v1", timeout=10)

    def close(self) -> None:
        self.client.close()

    def to(self, address: str) -> list[dict[str, Any]]:
        """Every message addressed to `address` (summaries, newest first)."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.client.get(
                "/search", params={"query": f"to:{address}", "start": len(found), "limit": 250}
            )
            page.raise_for_status()
            body = page.json()
            found.extend(body["messages"])
            if len(found) >= body["messages_count"] or not body["messages"]:
                return found

    def wait_for(self, address: str, count: int, timeout_s: float = 30.0) -> list[dict[str, Any]]:
        """The messages to `address` once there are at least `count` (or what is there then)."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.to(address)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def message(self, message_id: str) -> dict[str, Any]:
        response = self.client.get(f"/message/{message_id}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def raw(self, message_id: str) -> str:
        response = self.client.get(f"/message/{message_id}/raw")
        response.raise_for_status()
        return response.text

    def chaos(self, **triggers: dict[str, int]) -> None:
        """e.g. chaos(Recipient={"ErrorCode": 550, "Probability": 100}); chaos() resets."""
        response = self.client.put("/chaos", json=triggers)
        response.raise_for_status()
