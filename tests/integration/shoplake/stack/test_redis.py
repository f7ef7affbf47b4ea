"""Redis: the commands the platform relies on (TTL, hashes, Lua)."""

from __future__ import annotations

import redis

from shoplake.config import Settings


def test_set_get_ttl_hash_and_lua(settings: Settings, unique: str) -> None:
    client = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)
    key = f"test:{unique}"
    try:
        client.set(key, "v1", ex=60)
        assert client.get(key) == "v1"
        ttl = client.ttl(key)
        assert isinstance(ttl, int) and 0 < ttl <= 60

        client.hset(f"{key}:h", mapping={"a": "1", "b": "2"})
        assert client.hgetall(f"{key}:h") == {"a": "1", "b": "2"}

        # Conditional decrement, the shape of the later stock admission gate.
        decrement = client.register_script(
            "local v = tonumber(redis.call('GET', KEYS[1]) or '0') "
            "if v >= tonumber(ARGV[1]) then return redis.call('DECRBY', KEYS[1], ARGV[1]) end "
            "return -1"
        )
        client.set(f"{key}:stock", 3)
        assert [decrement(keys=[f"{key}:stock"], args=[2]) for _ in range(2)] == [1, -1]
    finally:
        client.delete(key, f"{key}:h", f"{key}:stock")
        client.close()
