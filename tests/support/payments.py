"""Payment test helpers: gateway settings with short timeouts, a client that counts answers."""

from __future__ import annotations

import httpx

from shoplake.config import Settings


def payment_settings(settings: Settings, **overrides: object) -> Settings:
    update: dict[str, object] = {
        "payment_timeout_s": 0.5,
        "payment_retry_attempts": 3,
        "payment_retry_backoff_s": 0.02,
        "payment_breaker_failures": 5,
        "payment_breaker_open_s": 30.0,
    }
    update.update(overrides)
    return settings.model_copy(update=update)


class CountingClient(httpx.Client):
    """An httpx client that counts the responses it got (to see retries from outside)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.statuses: list[int] = []
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            event_hooks={"response": [lambda r: self.statuses.append(r.status_code)]},
        )
