"""The API as the suite runs it: settings whose limits the suite's own traffic cannot trip,
and readiness gated on the stores only (the suite's in-process API runs no relay, so the
shared outbox always has rows waiting: the pipeline alarms have tests of their own)."""

from __future__ import annotations

from shoplake.config import Settings


def generous_limits(settings: Settings) -> Settings:
    """The suite's own traffic must not trip the rate limits (they have their own test)."""
    return settings.model_copy(
        update={
            "rate_limit_auth_per_minute": 100_000,
            "rate_limit_write_per_minute": 100_000,
            "rate_limit_checkout_per_minute": 100_000,
            "rate_limit_cart_per_minute": 100_000,
            "rate_limit_behaviour_per_minute": 100_000,
            "rate_limit_login_account_per_minute": 100_000,
            "rate_limit_register_per_minute": 100_000,
            "login_lockout_failures": 100_000,
            "readiness_gates": ["postgres", "redis"],
        }
    )
