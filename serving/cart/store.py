"""Redis state of carts: one hash per cart, changed only by atomic Lua scripts.

Key `cart:{<cart id>}` (the braces hash-tag the key, so a Redis Cluster keeps each cart whole).
Fields: `v` version (bumped by every change), `n` number of lines, `coupon` the coupon code,
`q:<sku>` a line's quantity, `o:<sku>` the version that added the line (for a stable order).
Each script checks the expected version and applies one change in a single step, so a write
from one device never overwrites a different line written by another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis

from serving.unit_of_work import SqlUnitOfWork

# KEYS[1] cart. ARGV: expected version ('' = any), ttl s, op, sku or coupon, quantity,
# max lines, max quantity per line.
# Returns {status, version, old quantity, new quantity, coupon before the change}.
_MUTATE = """
local key = KEYS[1]
local version = tonumber(redis.call('HGET', key, 'v') or '0')
local coupon = redis.call('HGET', key, 'coupon') or ''
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= version then
  return {'version_mismatch', version, 0, 0, coupon}
end
local op = ARGV[3]
local qfield = 'q:' .. ARGV[4]
local old = tonumber(redis.call('HGET', key, qfield) or '0')
local new = old
if op == 'add' then
  new = old + tonumber(ARGV[5])
  if new > tonumber(ARGV[7]) then
    return {'quantity_exceeded', version, old, old, coupon}
  end
  if old == 0 then
    if tonumber(redis.call('HGET', key, 'n') or '0') >= tonumber(ARGV[6]) then
      return {'too_many_lines', version, 0, 0, coupon}
    end
    redis.call('HINCRBY', key, 'n', 1)
    redis.call('HSET', key, 'o:' .. ARGV[4], version + 1)
  end
  redis.call('HSET', key, qfield, new)
elseif op == 'set' then
  if old == 0 then return {'missing', version, 0, 0, coupon} end
  new = tonumber(ARGV[5])
  redis.call('HSET', key, qfield, new)
elseif op == 'remove' then
  if old == 0 then return {'missing', version, 0, 0, coupon} end
  new = 0
  redis.call('HDEL', key, qfield, 'o:' .. ARGV[4])
  redis.call('HINCRBY', key, 'n', -1)
elseif op == 'coupon' then
  redis.call('HSET', key, 'coupon', ARGV[4])
elseif op == 'uncoupon' then
  if coupon == '' then return {'unchanged', version, 0, 0, coupon} end
  redis.call('HDEL', key, 'coupon')
else
  return redis.error_reply('unknown cart op ' .. op)
end
version = version + 1
redis.call('HSET', key, 'v', version)
redis.call('EXPIRE', key, tonumber(ARGV[2]))
return {'ok', version, old, new, coupon}
"""

# KEYS[1] cart. ARGV: ttl s, max lines, max quantity, coupon ('' = none), then sku, quantity...
# Adds the lines (quantities add, capped), takes the coupon when the cart has none.
# Returns {version, coupon taken (0/1), units added per line...}.
_MERGE = """
local key = KEYS[1]
local version = tonumber(redis.call('HGET', key, 'v') or '0')
local lines = tonumber(redis.call('HGET', key, 'n') or '0')
local max_lines = tonumber(ARGV[2])
local max_qty = tonumber(ARGV[3])
local result = {0, 0}
for i = 5, #ARGV, 2 do
  local sku = ARGV[i]
  local qfield = 'q:' .. sku
  local old = tonumber(redis.call('HGET', key, qfield) or '0')
  local added = 0
  if old > 0 or lines < max_lines then
    local new = math.min(old + tonumber(ARGV[i + 1]), max_qty)
    added = new - old
    if old == 0 then
      lines = lines + 1
      redis.call('HSET', key, 'o:' .. sku, version + 1)
    end
    redis.call('HSET', key, qfield, new)
  end
  table.insert(result, added)
end
if ARGV[4] ~= '' and not redis.call('HGET', key, 'coupon') then
  redis.call('HSET', key, 'coupon', ARGV[4])
  result[2] = 1
end
version = version + 1
redis.call('HSET', key, 'v', version, 'n', lines)
redis.call('EXPIRE', key, tonumber(ARGV[1]))
result[1] = version
return result
"""


@dataclass(frozen=True)
class CartLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class CartState:
    version: int = 0
    lines: list[CartLine] = field(default_factory=list)
    coupon: str | None = None
    ttl_s: int | None = None  # None: the cart does not exist


@dataclass(frozen=True)
class Mutation:
    status: str  # ok | version_mismatch | quantity_exceeded | too_many_lines | missing | unchanged
    version: int
    old_quantity: int
    new_quantity: int
    coupon_before: str | None


@dataclass(frozen=True)
class Merge:
    version: int
    coupon_taken: bool
    added: dict[str, int]  # units added per SKU (0 when the cart was full)


def cart_key(cart_id: str) -> str:
    return f"cart:{{{cart_id}}}"


def _state(fields: dict[str, str], ttl: int | None) -> CartState:
    lines = [
        (int(fields.get(f"o:{name[2:]}", "0")), CartLine(name[2:], int(value)))
        for name, value in fields.items()
        if name.startswith("q:")
    ]
    lines.sort(key=lambda pair: (pair[0], pair[1].sku))
    return CartState(
        version=int(fields.get("v", "0")),
        lines=[line for _, line in lines],
        coupon=fields.get("coupon") or None,
        ttl_s=ttl,
    )


def read(client: redis.Redis, cart_id: str) -> CartState:
    """The cart as one consistent snapshot (MULTI: the fields and the TTL together)."""
    key = cart_key(cart_id)
    pipe = client.pipeline(transaction=True)
    pipe.hgetall(key)
    pipe.ttl(key)
    fields, ttl = pipe.execute()
    if not fields:
        return CartState()
    return _state(fields, int(ttl) if ttl is not None and int(ttl) >= 0 else None)


def mutate(
    client: redis.Redis,
    cart_id: str,
    *,
    op: str,
    target: str,
    quantity: int = 0,
    expected_version: int | None,
    ttl_s: int,
    max_lines: int,
    max_quantity: int,
) -> Mutation:
    raw: list[Any] = client.register_script(_MUTATE)(
        keys=[cart_key(cart_id)],
        args=[
            "" if expected_version is None else str(expected_version),
            str(ttl_s),
            op,
            target,
            str(quantity),
            str(max_lines),
            str(max_quantity),
        ],
    )
    return Mutation(
        status=str(raw[0]),
        version=int(raw[1]),
        old_quantity=int(raw[2]),
        new_quantity=int(raw[3]),
        coupon_before=str(raw[4]) or None,
    )


def take(client: redis.Redis, cart_id: str) -> CartState:
    """Read and delete the cart in one step (MULTI), so no change slips in between."""
    key = cart_key(cart_id)
    pipe = client.pipeline(transaction=True)
    pipe.hgetall(key)
    pipe.delete(key)
    fields, _ = pipe.execute()
    return _state(fields, None) if fields else CartState()


def merge(
    client: redis.Redis,
    cart_id: str,
    lines: Sequence[CartLine],
    coupon: str | None,
    *,
    ttl_s: int,
    max_lines: int,
    max_quantity: int,
) -> Merge:
    args: list[str] = [str(ttl_s), str(max_lines), str(max_quantity), coupon or ""]
    for line in lines:
        args += [line.sku, str(line.quantity)]
    raw: list[Any] = client.register_script(_MERGE)(keys=[cart_key(cart_id)], args=args)
    return Merge(
        version=int(raw[0]),
        coupon_taken=bool(int(raw[1])),
        added={line.sku: int(added) for line, added in zip(lines, raw[2:], strict=True)},
    )


class CheckoutCarts(Protocol):
    """What checkout needs of the carts: read one, and take it once the order is paid."""

    def read(self, cart_id: str) -> CartState: ...

    def take(self, cart_id: str) -> CartState: ...


class RedisCheckoutCarts:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @classmethod
    def on(cls, uow: SqlUnitOfWork) -> RedisCheckoutCarts:
        return cls(uow.redis)

    def read(self, cart_id: str) -> CartState:
        return read(self.client, cart_id)

    def take(self, cart_id: str) -> CartState:
        return take(self.client, cart_id)
