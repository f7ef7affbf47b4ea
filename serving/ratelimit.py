"""Per-user/IP token buckets in Redis, one Lua call per request; 429 with Retry-After."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

import redis
import redis.asyncio

from serving.redis_async import bounded

# KEYS[1] bucket; ARGV: capacity, refill per second, now (s), cost.
# Returns {allowed (0/1), seconds until one token is back}.
_TOKEN_BUCKET = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
local wait = 0
if allowed == 0 then wait = (cost - tokens) / rate end
return {allowed, tostring(wait)}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int


class Limiter(Protocol):
    """What the rate-limit dependency spends a token of (an in-memory fake in unit tests)."""

    def hit(self, rule: str, subject: str, per_minute: int, cost: int = 1) -> Decision: ...

    async def hit_async(
        self, rule: str, subject: str, per_minute: int, cost: int = 1
    ) -> Decision: ...


class RateLimiter:
    """Token buckets named by (rule, subject); capacity per minute, refilled continuously.
    `hit` for blocking callers (the login guards), `hit_async` for the request dependencies,
    which run on the event loop: the same script, the same buckets."""

    def __init__(
        self, client: redis.Redis, async_client: redis.asyncio.Redis, timeout_s: float
    ) -> None:
        self._script = client.register_script(_TOKEN_BUCKET)
        self._async_script = async_client.register_script(_TOKEN_BUCKET)
        self._timeout_s = timeout_s

    def hit(self, rule: str, subject: str, per_minute: int, cost: int = 1) -> Decision:
        keys, args = _call(rule, subject, per_minute, cost)
        allowed, wait = self._script(keys=keys, args=args)
        return _decision(allowed, wait)

    async def hit_async(self, rule: str, subject: str, per_minute: int, cost: int = 1) -> Decision:
        keys, args = _call(rule, subject, per_minute, cost)
        async with bounded(self._timeout_s):
            allowed, wait = await self._async_script(keys=keys, args=args)
        return _decision(allowed, wait)


def _call(
    rule: str, subject: str, per_minute: int, cost: int
) -> tuple[list[str], list[int | float]]:
    """The script's keys and arguments: the bucket, then capacity, refill per second, now, cost."""
    return [f"ratelimit:{rule}:{subject}"], [per_minute, per_minute / 60.0, time.time(), cost]


def _decision(allowed: Any, wait: Any) -> Decision:
    """The script's reply: an integer and a number as text (bytes or str by the client)."""
    ok = bool(int(allowed))
    return Decision(ok, 0 if ok else max(1, math.ceil(float(wait))))


# KEYS[1] lockout; ARGV: now (s), failures before a lock, base lock (s), longest lock (s).
# Returns the seconds the subject is now locked for (0: not locked).
_FAILURE = """
local now = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local longest = tonumber(ARGV[4])
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local lock = 0
if failures >= threshold then
  lock = math.min(longest, base * 2 ^ (failures - threshold))
  redis.call('HSET', KEYS[1], 'until', now + lock)
end
redis.call('EXPIRE', KEYS[1], math.ceil(math.max(lock, longest)) + 60)
return tostring(lock)
"""


class Lockout:
    """Failures in a row per subject; from the `threshold`-th on, the subject is locked for
    `base_s`, then twice as long after each further failure, up to `max_s`. A success clears
    it. The subject is whatever the caller names (a hash of the account's email for logins),
    so a locked account and an unknown one look alike."""

    def __init__(
        self, client: redis.Redis, rule: str, *, threshold: int, base_s: float, max_s: float
    ) -> None:
        self.client = client
        self.rule = rule
        self.threshold = threshold
        self.base_s = base_s
        self.max_s = max_s
        self._failure = client.register_script(_FAILURE)

    def _key(self, subject: str) -> str:
        return f"lockout:{self.rule}:{subject}"

    def locked_for(self, subject: str) -> int:
        """Whole seconds the subject stays locked (0: free to try)."""
        until = self.client.hget(self._key(subject), "until")
        if until is None:
            return 0
        left = float(str(until)) - time.time()
        return max(0, math.ceil(left))

    def failure(self, subject: str) -> int:
        """Count a failure; the seconds of the lock it caused (0: none yet)."""
        lock = self._failure(
            keys=[self._key(subject)],
            args=[time.time(), self.threshold, self.base_s, self.max_s],
        )
        return math.ceil(float(lock))

    def success(self, subject: str) -> None:
        self.client.delete(self._key(subject))
