"""The OLTP database: engine factory, shared metadata and Alembic migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData, create_engine

from shoplake.config import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Names for constraints and indexes, so that migrations are reproducible across databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every table of every serving domain registers on this one MetaData.
metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(settings: Settings, *, pool_size: int = 10) -> Engine:
    """A pooled engine for the configured database (psycopg 3)."""
    return create_engine(
        settings.database_endpoint,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        future=True,
    )


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' is ConfigParser's interpolation character; a password may contain it.
    config.set_main_option("sqlalchemy.url", settings.database_endpoint.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the schema to `revision` (idempotent)."""
    command.upgrade(alembic_config(settings), revision)


def current_revision(settings: Settings) -> str | None:
    """The revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(settings, pool_size=1)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
