"""SQL of checkout requests: the saga's log, one row per Idempotency-Key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import redis
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert

from serving.checkout.tables import checkout_requests
from serving.unit_of_work import SqlUnitOfWork


@dataclass(frozen=True)
class CheckoutRecord:
    idempotency_key: str
    user_id: str
    request_hash: str
    order_id: str | None
    state: str


class CheckoutStore(Protocol):
    def claim(self, key: str, user_id: str, request_hash: str) -> bool:
        """Insert the request in state `claimed`; False when the key exists. A concurrent
        claim of the same key waits for the first transaction to end, then sees its row."""
        ...

    def get(self, key: str) -> CheckoutRecord | None: ...

    def set_state(self, key: str, state: str, *, order_id: str | None = None) -> None: ...


class SqlCheckoutStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @classmethod
    def on(cls, uow: SqlUnitOfWork) -> SqlCheckoutStore:
        return cls(uow.connection)

    def claim(self, key: str, user_id: str, request_hash: str) -> bool:
        # The unique index does the waiting: a second insert of the key blocks until the
        # first transaction commits (then conflicts) or rolls back (then inserts).
        inserted = self.conn.execute(
            pg_insert(checkout_requests)
            .values(
                idempotency_key=key, user_id=user_id, request_hash=request_hash, state="claimed"
            )
            .on_conflict_do_nothing()
            .returning(checkout_requests.c.idempotency_key)
        ).first()
        return inserted is not None

    def get(self, key: str) -> CheckoutRecord | None:
        row = self.conn.execute(
            sa.select(checkout_requests).where(checkout_requests.c.idempotency_key == key)
        ).first()
        if row is None:
            return None
        return CheckoutRecord(
            idempotency_key=row.idempotency_key,
            user_id=row.user_id,
            request_hash=row.request_hash,
            order_id=row.order_id,
            state=row.state,
        )

    def set_state(self, key: str, state: str, *, order_id: str | None = None) -> None:
        values: dict[str, Any] = {"state": state, "updated_at": sa.func.now()}
        if order_id is not None:
            values["order_id"] = order_id
        self.conn.execute(
            checkout_requests.update()
            .where(checkout_requests.c.idempotency_key == key)
            .values(**values)
        )


class PlacingMarks(Protocol):
    """Keys whose checkout went past the sold-out check and is being placed (Redis): a
    concurrent duplicate of such a key must wait for its row, never answer "sold out"."""

    def mark(self, key: str) -> None: ...

    def marked(self, key: str) -> bool: ...


class RedisPlacingMarks:
    # Longer than any step 1 transaction; past it the key's row is committed (or never was).
    TTL_S = 300

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @classmethod
    def on(cls, uow: SqlUnitOfWork) -> RedisPlacingMarks:
        return cls(uow.redis)

    @staticmethod
    def _key(key: str) -> str:
        return f"checkout:placing:{{{key}}}"

    def mark(self, key: str) -> None:
        self.client.set(self._key(key), "1", ex=self.TTL_S)

    def marked(self, key: str) -> bool:
        return bool(self.client.exists(self._key(key)))
