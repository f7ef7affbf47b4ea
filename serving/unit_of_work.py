"""The unit of work of the money paths (checkout, orders, payments, inventory, coupons).

One object per request (or per sweep run) carries what those use cases share — settings, the
payment gateway, Redis — and opens one transaction each time it is entered:

    with uow:
        ...                      # stores opened on the unit, events recorded in the outbox
        uow.commit()             # leaving without commit rolls everything back

A saga enters it several times (checkout: transaction, gateway call outside any
transaction, transaction). Inside a transaction:
- `store(name, open)` gives a domain's store for this transaction; each domain opens its own
  (`uow.store("orders", SqlOrderStore.on)`), so this module knows no domain's store or
  tables, and the fake unit of the tests hands out in-memory stores under the same names;
- `record(event, source)` writes the event to the outbox in the same transaction, so it
  exists if and only if the change commits (`shoplake.outbox.record`);
- `after_commit(action)` runs the action once the commit succeeded (Redis is not in the
  transaction: the cart is taken, the stock gate refunded only when the change is durable);
- `savepoint()` lets a step fail without spoiling the rest of the transaction.

`with uow.reading():` is the other way in: one connection and no transaction, for a read whose
answer needs nothing but that one statement (checkout's "was this key placed?" before a
sold-out answer). It spares the BEGIN and ROLLBACK round trips a transaction costs; nothing can
be written, recorded or committed in it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Protocol, Self, TypeVar

import redis
from sqlalchemy import Connection, Engine, RootTransaction

from serving.payments.gateway import PaymentGateway
from shoplake import outbox
from shoplake.config import Settings
from shoplake.events.base import EventData

log = logging.getLogger(__name__)

S = TypeVar("S")


class UnitOfWork(Protocol):
    """What a money-path use case is given; `SqlUnitOfWork` in the app, a fake in unit tests."""

    @property
    def settings(self) -> Settings: ...

    @property
    def gateway(self) -> PaymentGateway: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def store(self, name: str, open_store: Callable[[SqlUnitOfWork], S]) -> S:
        """The store named `name` for this transaction, opened by `open_store` on first use."""
        ...

    def record(self, event: EventData, source: str) -> None:
        """Add the event to the outbox of this transaction."""
        ...

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once this transaction has committed (never if it rolls back)."""
        ...

    def reading(self) -> contextlib.AbstractContextManager[Self]:
        """One connection, no transaction: stores opened in it may read, never write."""
        ...

    def savepoint(self) -> contextlib.AbstractContextManager[None]:
        """A nested transaction: an error inside undoes what was done inside, and only that."""
        ...


class NotInTransaction(RuntimeError):
    """A store or an event was asked for outside `with uow:`."""


class NoRedis(RuntimeError):
    """A Redis store was asked of a unit made without a Redis client."""


class SqlUnitOfWork:
    """The unit over Postgres (one connection and transaction per `with`) and Redis.

    With `make_gateway` instead of `gateway`, the gateway is made on first use, so a route
    that never pays never builds one. `stores` are given up front and live across
    transactions (for stores that hold no connection, e.g. a stock gate a caller chose).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        redis_client: redis.Redis | None = None,
        settings: Settings | None = None,
        gateway: PaymentGateway | None = None,
        make_gateway: Callable[[], PaymentGateway] | None = None,
        stores: dict[str, object] | None = None,
    ) -> None:
        self.engine = engine
        self._redis = redis_client
        self._settings = settings
        self._gateway = gateway
        self._make_gateway = make_gateway
        self._preset = dict(stores or {})
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None
        self._stores: dict[str, object] = {}
        self._after_commit: list[Callable[[], None]] = []

    # ------------------------------------------------------------ what the unit carries

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise RuntimeError("this unit of work was made without settings")
        return self._settings

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            raise NoRedis("this unit of work was made without Redis")
        return self._redis

    @property
    def gateway(self) -> PaymentGateway:
        if self._gateway is None:
            if self._make_gateway is None:
                raise RuntimeError("this unit of work was made without a payment gateway")
            self._gateway = self._make_gateway()
        return self._gateway

    @property
    def connection(self) -> Connection:
        """The transaction's connection: for stores, never for services."""
        if self._connection is None:
            raise NotInTransaction("enter the unit of work (`with uow:`) first")
        return self._connection

    # ------------------------------------------------------------ the transaction

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already in a transaction")
        connection = self.engine.connect()
        try:
            self._transaction = connection.begin()
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()  # nothing left to undo after a commit
        finally:
            if self._connection is not None:
                self._connection.close()
            self._connection = None
            self._transaction = None
            self._stores.clear()
            self._after_commit.clear()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Self]:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already in a transaction")
        # AUTOCOMMIT is psycopg's client-side flag: no BEGIN is sent, each statement stands
        # alone; the pool puts the connection's usual isolation back when it is returned.
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._connection = connection
        try:
            yield self
        finally:
            connection.close()
            self._connection = None
            self._stores.clear()

    def commit(self) -> None:
        if self._transaction is None:
            raise NotInTransaction("nothing to commit outside `with uow:`")
        self._transaction.commit()
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            # The change is durable: what follows it only mirrors it in Redis (a cart taken,
            # a gate refunded), which a failure must not turn into an error of the request.
            try:
                action()
            except Exception:
                log.exception("an action after commit failed; the committed change stands")

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()
        self._after_commit.clear()

    # ------------------------------------------------------------ inside the transaction

    def store(self, name: str, open_store: Callable[[SqlUnitOfWork], S]) -> S:
        if name in self._preset:
            return self._preset[name]  # type: ignore[return-value]
        if name not in self._stores:
            self._stores[name] = open_store(self)
        return self._stores[name]  # type: ignore[return-value]

    def record(self, event: EventData, source: str) -> None:
        if self._transaction is None:  # `reading()` has a connection, but no transaction
            raise NotInTransaction("record events inside `with uow:`")
        outbox.record(self.connection, event, source)

    def after_commit(self, action: Callable[[], None]) -> None:
        if self._transaction is None:
            raise NotInTransaction("after_commit outside `with uow:`")
        self._after_commit.append(action)

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        pending = len(self._after_commit)
        try:
            with self.connection.begin_nested():
                yield
        except BaseException:
            del self._after_commit[pending:]  # what was undone must not be mirrored later
            raise
