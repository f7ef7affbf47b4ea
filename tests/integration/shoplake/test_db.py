"""PostgreSQL through SQLAlchemy, with the schema migrated by Alembic."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shoplake import db
from shoplake.config import Settings


def test_transactions_commit_and_roll_back(settings: Settings, unique: str) -> None:
    engine = db.make_engine(settings, pool_size=1)
    table = f"test_{unique}"
    try:
        with engine.begin() as conn:
            conn.execute(text(f"create table {table} (id int primary key, payload jsonb not null)"))
            conn.execute(
                text(f"insert into {table} values (:id, cast(:payload as jsonb))"),
                {"id": 1, "payload": '{"brand": "acme"}'},
            )
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(f"insert into {table} values (2, '{{}}')"))
            conn.execute(
                text(f"insert into {table} values (1, '{{}}')")
            )  # duplicate: all rolls back
        with engine.connect() as conn:
            rows = conn.execute(text(f"select id, payload->>'brand' from {table}")).all()
        assert [tuple(row) for row in rows] == [(1, "acme")]
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"drop table if exists {table}"))
        engine.dispose()


def test_migrations_are_at_head_and_upgrade_is_idempotent(settings: Settings) -> None:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(db.alembic_config(settings)).get_current_head()
    db.upgrade(settings)
    db.upgrade(settings)
    assert head is not None
    assert db.current_revision(settings) == head


def test_every_migration_goes_down_and_up_again(settings: Settings, unique: str) -> None:
    """On a scratch database: head → base (every downgrade) → head, and the tables follow."""
    name = f"shoplake_migrations_{unique}"
    admin = db.make_engine(settings, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    scratch = settings.model_copy(
        update={
            "database_url": SecretStr(settings.database_endpoint.rsplit("/", 1)[0] + f"/{name}")
        }
    )
    try:
        db.upgrade(scratch)
        assert "orders" in _tables(scratch)
        db.downgrade(scratch, "-1")
        assert db.current_revision(scratch) != db.current_revision(settings)
        db.downgrade(scratch, "base")
        assert db.current_revision(scratch) is None
        assert _tables(scratch) <= {"alembic_version"}
        db.upgrade(scratch)
        assert db.current_revision(scratch) == db.current_revision(settings)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def _tables(settings: Settings) -> set[str]:
    engine = db.make_engine(settings, pool_size=1)
    try:
        with engine.connect() as conn:
            return set(
                conn.execute(
                    text("select tablename from pg_tables where schemaname = 'public'")
                ).scalars()
            )
    finally:
        engine.dispose()
