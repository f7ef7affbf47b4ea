"""PostgreSQL through SQLAlchemy, with the schema migrated by Alembic."""

from __future__ import annotations

import pytest
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
        assert rows == [(1, "acme")]
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
