"""Per-user/IP token buckets in Redis, one Lua call per request; 429 with Retry-After."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import redis

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


class RateLimiter:
    """Token buckets named by (rule, subject); capacity per minute, refilled continuously."""

    def __init__(self, client: redis.Redis) -> None:
        self._script = client.register_script(_TOKEN_BUCKET)

    def hit(self, rule: str, subject: str, per_minute: int, cost: int = 1) -> Decision:
        rate = per_minute / 60.0
        allowed, wait = self._script(
            keys=[f"ratelimit:{rule}:{subject}"], args=[per_minute, rate, time.time(), cost]
        )
        return Decision(
            bool(int(allowed)), max(1, math.ceil(float(wait))) if not int(allowed) else 0
        )
