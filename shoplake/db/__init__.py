"""The OLTP database: engine factory, shared metadata and Alembic migrations."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
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


def make_engine(
    settings: Settings, *, pool_size: int = 10, max_overflow: int | None = None
) -> Engine:
    """A pooled engine for the configured database (psycopg 3): `pool_size` connections kept,
    `max_overflow` (by default as many) more opened for a burst and closed when returned."""
    return create_engine(
        settings.database_endpoint,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        # Every connection is checked before use, so the pool recovers by itself after the
        # database restarts: dead connections are replaced, never handed to a request.
        pool_pre_ping=True,
        connect_args={"connect_timeout": settings.database_connect_timeout_s},
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


def downgrade(settings: Settings, revision: str = "-1") -> None:
    """Take the schema back to `revision` (`-1`: one step; `base`: empty)."""
    command.downgrade(alembic_config(settings), revision)


# Alembic keeps the revision id in a varchar(32).
_REVISION_ID_MAX = 32


def next_revision_id(message: str, versions_dir: Path) -> str:
    """The house style: `000N_<slug>`, one more than the highest migration in `versions_dir`."""
    numbers = [int(path.name[:4]) for path in versions_dir.glob("[0-9][0-9][0-9][0-9]_*.py")]
    number = max(numbers, default=0) + 1
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_") or "change"
    return f"{number:04d}_{slug}"[:_REVISION_ID_MAX].rstrip("_")


def revision(
    settings: Settings,
    message: str,
    *,
    autogenerate: bool = True,
    migrations_dir: Path = MIGRATIONS_DIR,
) -> Path:
    """Write a migration named and formatted like the others; its path.

    With `autogenerate` the tables registered on `metadata` are compared with the database,
    so the caller imports every table first (serving's `shoplake db revision` does).
    """
    config = alembic_config(settings)
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("file_template", "%%(rev)s")
    rev_id = next_revision_id(message, migrations_dir / "versions")
    script = command.revision(config, message=message, autogenerate=autogenerate, rev_id=rev_id)
    scripts = script if isinstance(script, list) else [script]
    path = Path(scripts[0].path) if scripts and scripts[0] is not None else None
    if path is None:
        raise RuntimeError("alembic wrote no migration")
    _tidy(path)
    return path


def _tidy(path: Path) -> None:
    """Sort imports, drop unused ones and format, as `make lint` wants (ruff is a dev tool)."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        return
    subprocess.run([ruff, "check", "--fix", "--quiet", str(path)], check=False)
    subprocess.run([ruff, "format", "--quiet", str(path)], check=False)


def current_revision(settings: Settings) -> str | None:
    """The revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(settings, pool_size=1)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
