"""The stock admission gate in Redis: answers "sold out" for hot SKUs before Postgres is asked.

Key `stock:{<sku>}` (braces hash-tag it for Redis Cluster) holds the SKU's available units over
all warehouses. `admit` takes units atomically only when enough are left; `refund` gives them
back. A SKU without a key is unknown to the gate and passes (Postgres decides). The gate is an
optimisation, never the truth: Postgres' conditional update refuses an oversell whatever the gate
holds. Drift is bounded in the safe direction by `rebuild` (from the ledger; it may read a value
that in-flight reservations then lower, i.e. it errs high, never low).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis

UNKNOWN = -1
SOLD_OUT = -2

# KEYS[1] stock key; ARGV[1] units. -1: no key (pass), -2: not enough, else units left.
_ADMIT = """
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
local q = tonumber(ARGV[1])
if tonumber(v) < q then return -2 end
return redis.call('DECRBY', KEYS[1], q)
"""

# KEYS[1] stock key; ARGV[1] signed units. Shifts an existing key only (never below 0); a SKU
# the gate does not know stays unknown until the next rebuild.
_SHIFT = """
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
local n = tonumber(v) + tonumber(ARGV[1])
if n < 0 then n = 0 end
redis.call('SET', KEYS[1], n)
return n
"""


def gate_key(sku: str) -> str:
    return f"stock:{{{sku}}}"


@dataclass(frozen=True)
class Admission:
    sku: str
    quantity: int
    taken: bool  # False when the gate did not know the SKU: nothing to refund


class StockGate:
    """Lua scripts over `stock:{sku}` keys; each call touches one key (cluster-safe)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._admit = client.register_script(_ADMIT)
        self._shift = client.register_script(_SHIFT)

    def admit(self, sku: str, quantity: int) -> int:
        """Units left after taking `quantity`; UNKNOWN (passes) or SOLD_OUT (took nothing)."""
        result: Any = self._admit(keys=[gate_key(sku)], args=[quantity])
        return int(result)

    def refund(self, sku: str, quantity: int) -> None:
        self._shift(keys=[gate_key(sku)], args=[quantity])

    def shift(self, sku: str, delta: int) -> None:
        """Follow a change of the ledger's available units (receipt, adjustment, release)."""
        if delta:
            self._shift(keys=[gate_key(sku)], args=[delta])

    def levels(self, skus: Sequence[str]) -> dict[str, int | None]:
        """Units the gate holds per SKU (None: not tracked); one MGET, no script."""
        found: Any = self.client.mget([gate_key(sku) for sku in skus]) if skus else []
        values: list[Any] = list(found)
        return {sku: None if v is None else int(v) for sku, v in zip(skus, values, strict=True)}

    def admit_all(self, lines: Sequence[tuple[str, int]]) -> tuple[list[Admission], list[str]]:
        """Admit every line or none: (admissions, sold-out SKUs); on any sold-out SKU the units
        already taken are refunded and no admission is returned."""
        admitted: list[Admission] = []
        sold_out: list[str] = []
        for sku, quantity in lines:
            left = self.admit(sku, quantity)
            if left == SOLD_OUT:
                sold_out.append(sku)
            else:
                admitted.append(Admission(sku, quantity, taken=left != UNKNOWN))
        if sold_out:
            self.refund_all(admitted)
            return [], sold_out
        return admitted, []

    def refund_all(self, admissions: Iterable[Admission]) -> None:
        for admission in admissions:
            if admission.taken:
                self.refund(admission.sku, admission.quantity)

    def get(self, sku: str) -> int | None:
        value: Any = self.client.get(gate_key(sku))
        return None if value is None else int(value)

    def set(self, sku: str, available: int) -> None:
        self.client.set(gate_key(sku), max(available, 0))

    def load(self, available: Mapping[str, int], batch: int = 1000) -> int:
        """Set every key from the ledger's totals (pipelined); the number of keys written."""
        items = list(available.items())
        for start in range(0, len(items), batch):
            pipe = self.client.pipeline(transaction=False)
            for sku, units in items[start : start + batch]:
                pipe.set(gate_key(sku), max(units, 0))
            pipe.execute()
        return len(items)

    def forget(self, sku: str) -> None:
        self.client.delete(gate_key(sku))
