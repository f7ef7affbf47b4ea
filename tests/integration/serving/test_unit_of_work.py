"""The unit of work over Postgres: one transaction per `with`, committed only by `commit`;
events in the outbox if and only if the change commits; after-commit actions only after it;
a savepoint that undoes its own part (and its actions) only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine

from serving.checkout.store import SqlCheckoutStore
from serving.checkout.tables import checkout_requests
from serving.unit_of_work import NotInTransaction, SqlUnitOfWork
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events.cart import CartCheckedOut
from shoplake.outbox import outbox


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings, pool_size=2)
    yield engine
    engine.dispose()


def _event(key: str) -> CartCheckedOut:
    return CartCheckedOut(cart_id=f"u:{key}", user_id=key, order_id=key, item_count=1)


def _kept(engine: Engine, key: str) -> tuple[int, int]:
    """(checkout requests, outbox rows) this test wrote under `key`."""
    with engine.connect() as conn:
        requests = conn.execute(
            sa.select(sa.func.count()).where(checkout_requests.c.idempotency_key == key)
        ).scalar_one()
        events = conn.execute(
            sa.select(sa.func.count()).where(outbox.c.key == f"u:{key}")  # the cart id
        ).scalar_one()
    return int(requests), int(events)


def _claim(uow: SqlUnitOfWork, key: str) -> None:
    uow.store("checkout", SqlCheckoutStore.on).claim(key, str(uuid.uuid4()), "hash")
    uow.record(_event(key), "/tests")


def test_a_commit_keeps_the_change_and_its_event_then_runs_the_actions(engine: Engine) -> None:
    key = f"uow-{uuid.uuid4().hex}"
    uow = SqlUnitOfWork(engine)
    ran: list[tuple[int, int]] = []
    with uow:
        _claim(uow, key)
        uow.after_commit(lambda: ran.append(_kept(engine, key)))
        assert ran == []
        uow.commit()
    assert ran == [(1, 1)]  # the action saw the committed change
    assert _kept(engine, key) == (1, 1)


def test_leaving_without_commit_or_with_an_error_keeps_nothing(engine: Engine) -> None:
    key, other = f"uow-{uuid.uuid4().hex}", f"uow-{uuid.uuid4().hex}"
    uow = SqlUnitOfWork(engine)
    ran: list[str] = []
    with uow:
        _claim(uow, key)
        uow.after_commit(lambda: ran.append("no"))
    with pytest.raises(RuntimeError, match="boom"), uow:
        _claim(uow, other)
        raise RuntimeError("boom")
    assert _kept(engine, key) == (0, 0) and _kept(engine, other) == (0, 0)
    assert ran == []


def test_a_savepoint_undoes_its_part_and_its_actions_only(engine: Engine) -> None:
    kept, undone = f"uow-{uuid.uuid4().hex}", f"uow-{uuid.uuid4().hex}"
    uow = SqlUnitOfWork(engine)
    ran: list[str] = []
    with uow:
        _claim(uow, kept)
        with pytest.raises(ValueError), uow.savepoint():
            _claim(uow, undone)
            uow.after_commit(lambda: ran.append("undone"))
            raise ValueError("a step failed")
        uow.after_commit(lambda: ran.append("kept"))
        uow.commit()
    assert _kept(engine, kept) == (1, 1) and _kept(engine, undone) == (0, 0)
    assert ran == ["kept"]


def test_the_unit_refuses_work_outside_a_transaction_and_nesting(engine: Engine) -> None:
    uow = SqlUnitOfWork(engine)
    with pytest.raises(NotInTransaction):
        uow.record(_event("x"), "/tests")
    with pytest.raises(NotInTransaction):
        uow.commit()
    with uow, pytest.raises(RuntimeError, match="already in a transaction"), uow:
        pass
    with pytest.raises(RuntimeError, match="without a payment gateway"):
        _ = uow.gateway


def test_reading_sees_committed_rows_outside_any_transaction_and_cannot_record(
    engine: Engine,
) -> None:
    key = f"uow-{uuid.uuid4().hex}"
    uow = SqlUnitOfWork(engine)
    with uow:
        _claim(uow, key)
        uow.commit()
    with uow.reading():
        found = uow.store("checkout", SqlCheckoutStore.on).get(key)
        assert found is not None and found.state == "claimed"
        # No BEGIN reached the server: after the read, the session is idle, not in a transaction.
        dbapi = uow.connection.connection.dbapi_connection
        assert dbapi is not None and dbapi.info.transaction_status == TransactionStatus.IDLE
        with pytest.raises(NotInTransaction):
            uow.record(_event(key), "/tests")
        with pytest.raises(NotInTransaction):
            uow.after_commit(lambda: None)
    with pytest.raises(NotInTransaction):
        _ = uow.connection  # the reading connection went back to the pool
    with uow:  # the pooled connection is transactional again for the next unit
        assert uow.connection.get_isolation_level() != "AUTOCOMMIT"
