"""PostgreSQL from Debian's server binaries, on a data dir under the state dir."""

from __future__ import annotations

import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

import psycopg
from psycopg import sql

from shoplake.stack.process import StackError, run_checked
from shoplake.stack.service import LocalService

SUPERUSER = "postgres"


def postgres_bin_dir() -> Path:
    """The newest installed server version's bin dir (/usr/lib/postgresql/<major>/bin)."""
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not installed:
        raise StackError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql: run `make setup` "
            "(apt-get install postgresql)."
        )
    return installed[-1].parent


class PostgresService(LocalService):
    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: SIGTERM would wait for every client to leave

    @property
    def port(self) -> int:
        return self.settings.postgres_port

    @property
    def endpoint(self) -> str:
        s = self.settings
        return f"postgresql://{s.postgres_user}:***@{s.bind_host}:{self.port}/{s.postgres_db}"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.home / "socket"

    def prepare(self) -> None:
        bin_dir = postgres_bin_dir()
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = self.as_service_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                # The superuser only over the private socket; everyone else by password.
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ],
            owned=[self.home],
        )
        run_checked(argv, what="initdb")

    def command(self) -> tuple[Sequence[str], Mapping[str, str]]:
        bin_dir = postgres_bin_dir()
        argv = self.as_service_user(
            [
                str(bin_dir / "postgres"),
                "-D",
                str(self.data_dir),
                "-p",
                str(self.port),
                "-h",
                self.settings.bind_host,
                "-k",
                str(self.socket_dir),
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=128MB",
                "-c",
                "logging_collector=off",
            ],
            owned=[self.home],
        )
        return argv, {"LC_ALL": "C.UTF-8"}

    def _admin(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=SUPERUSER,
            dbname=dbname,
            connect_timeout=2,
            autocommit=True,
        )

    def healthy(self) -> bool:
        try:
            with self._admin() as conn:
                return conn.execute("select 1").fetchone() == (1,)
        except psycopg.Error:
            return False

    def version(self) -> str | None:
        try:
            with self._admin() as conn:
                row = conn.execute("show server_version").fetchone()
        except psycopg.Error:
            return None
        return str(row[0]).split()[0] if row else None

    def after_start(self) -> None:
        """Create the application role and database once; keep the role's password in step.

        The local role may create databases: the migration tests go up and down on a scratch
        database, and other services of the stack (MLflow) keep their own database beside it.
        """
        s = self.settings
        password = s.postgres_password.get_secret_value()
        with self._admin() as conn:
            role_exists = conn.execute(
                "select 1 from pg_roles where rolname = %s", (s.postgres_user,)
            ).fetchone()
            verb = sql.SQL("alter") if role_exists else sql.SQL("create")
            conn.execute(
                sql.SQL("{} role {} login createdb password {}").format(
                    verb, sql.Identifier(s.postgres_user), sql.Literal(password)
                )
            )
            db_exists = conn.execute(
                "select 1 from pg_database where datname = %s", (s.postgres_db,)
            ).fetchone()
            if not db_exists:
                conn.execute(
                    sql.SQL("create database {} owner {}").format(
                        sql.Identifier(s.postgres_db), sql.Identifier(s.postgres_user)
                    )
                )
