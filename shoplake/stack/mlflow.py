"""The MLflow tracking server: its own venv, its own database in the stack's PostgreSQL.

Started lean: one uvicorn worker and no job runner (`MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false`;
the job runner and its task consumers only serve GenAI scorers), about 550 MiB instead of
2.5 GiB. Artifacts are served by the server itself (`--serve-artifacts`), so clients upload
over HTTP and need no access to its disk. Telemetry is off in the server's environment.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from shoplake.config import QUIET_ENV, child_env
from shoplake.stack.process import StackError, process_tree
from shoplake.stack.service import LocalService, ServiceStatus


def tree_rss_mib(pid: int) -> float | None:
    """Resident memory of a process and all its descendants, in MiB (Linux /proc)."""
    total_kib, seen = 0, False
    for current in process_tree(pid):
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        seen = True
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kib += int(line.split()[1])
    return total_kib / 1024 if seen else None


class MLflowService(LocalService):
    name = "mlflow"

    @property
    def port(self) -> int:
        return self.settings.mlflow_port

    @property
    def endpoint(self) -> str:
        return self.settings.mlflow_uri

    @property
    def executable(self) -> Path:
        return self.settings.mlflow_venv / "bin" / "mlflow"

    def prepare(self) -> None:
        if not self.executable.exists():
            raise StackError(
                f"the MLflow server is not installed ({self.executable} missing): run "
                "`make mlflow` (it builds the server's own venv, .venv-mlflow)."
            )
        self.settings.mlflow_artifacts_dir.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        if self.settings.mlflow_backend_uri is None:
            self._ensure_database()

    def _ensure_database(self) -> None:
        """MLflow's own database, made by the app role (which may create databases).

        Postgres starts beside this service, so wait for the role to log in. MLflow and the
        app must not share a database: both keep an `alembic_version` table.
        """
        s = self.settings
        deadline = time.monotonic() + s.service_start_timeout_s
        while True:
            try:
                conn = psycopg.connect(
                    host=s.bind_host,
                    port=s.postgres_port,
                    user=s.postgres_user,
                    password=s.postgres_password.get_secret_value(),
                    dbname=s.postgres_db,
                    connect_timeout=2,
                    autocommit=True,
                )
                break
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise StackError(
                        f"mlflow: PostgreSQL did not accept the app role: {exc}"
                    ) from exc
                time.sleep(0.5)
        with conn:
            exists = conn.execute(
                "select 1 from pg_database where datname = %s", (s.mlflow_backend_db,)
            ).fetchone()
            if not exists:
                conn.execute(
                    sql.SQL("create database {}").format(sql.Identifier(s.mlflow_backend_db))
                )

    def command(self) -> tuple[Sequence[str], Mapping[str, str]]:
        s = self.settings
        argv = [
            str(self.executable),
            "server",
            "--serve-artifacts",
            "--artifacts-destination",
            str(s.mlflow_artifacts_dir),
            "--host",
            s.bind_host,
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]
        env = child_env()
        env.update(QUIET_ENV)
        # The backend URI holds a password: in the environment, never on the command line.
        env["MLFLOW_BACKEND_STORE_URI"] = s.mlflow_backend_endpoint
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        return argv, env

    def healthy(self) -> bool:
        try:
            response = httpx.get(f"{self.endpoint}/health", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def version(self) -> str | None:
        try:
            response = httpx.get(f"{self.endpoint}/version", timeout=2.0)
        except httpx.HTTPError:
            return None
        return response.text.strip() if response.status_code == 200 else None

    def status(self) -> ServiceStatus:
        """The usual status, with the server's resident memory beside its version."""
        found = super().status()
        if found.pid is None or found.version is None:
            return found
        rss = tree_rss_mib(found.pid)
        version = found.version if rss is None else f"{found.version} ({rss:.0f} MiB)"
        return ServiceStatus(
            found.name, found.state, found.port, found.pid, version, found.endpoint
        )
