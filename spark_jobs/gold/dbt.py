"""dbt, run the platform's way: pointed at the Spark SQL endpoint and the lake from shoplake's
settings, its target and logs under the gold folder, its results read from `run_results.json`.

dbt runs as a child process (`dbt` of this venv), so its global state and logging stay out of
the caller, and a test or an Airflow task gets the same run a person gets on the command line.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shoplake.config import REPO_ROOT, Settings, child_env

log = logging.getLogger(__name__)

PROJECT_DIR = REPO_ROOT / "dbt"
FAILED = frozenset({"error", "fail", "runtime error"})


@dataclass(frozen=True)
class GoldTarget:
    """Which lake dbt builds from and into: the stack's by default; a test's own copy (its own
    lake root, and a schema prefix so its tables have names of their own in the endpoint)."""

    lake_root: str
    schema_prefix: str = ""

    @classmethod
    def of(cls, settings: Settings) -> GoldTarget:
        return cls(settings.lake_path)

    @property
    def label(self) -> str:
        return self.schema_prefix.rstrip("_") or "main"


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str  # success | pass | warn | error | fail | skipped | runtime error
    seconds: float
    message: str | None
    failures: int | None

    @property
    def kind(self) -> str:
        return self.unique_id.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.unique_id.rsplit(".", 1)[-1] if self.kind != "test" else self.unique_id

    @property
    def failed(self) -> bool:
        return self.status in FAILED


@dataclass(frozen=True)
class DbtRun:
    command: tuple[str, ...]
    returncode: int
    seconds: float
    results: tuple[NodeResult, ...] = ()
    output: str = ""
    artifacts: Path | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not any(r.failed for r in self.results)

    @property
    def failures(self) -> list[NodeResult]:
        return [r for r in self.results if r.failed]

    def count(self, *statuses: str) -> int:
        return sum(1 for r in self.results if r.status in statuses)

    def summary(self) -> str:
        counts = {s: self.count(s) for s in ("success", "pass", "warn", "error", "fail", "skipped")}
        parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        return f"dbt {' '.join(self.command)}: {parts or 'nothing to do'} in {self.seconds:.0f}s"


class DbtFailed(RuntimeError):
    def __init__(self, run: DbtRun) -> None:
        self.run = run
        lines = [run.summary()]
        for node in run.failures[:10]:
            lines.append(f"  {node.status}: {node.name}: {(node.message or '').strip()[:300]}")
        if not run.results:
            lines.append(run.output.strip()[-2000:])
        super().__init__("\n".join(lines))


def target_dir(settings: Settings, target: GoldTarget) -> Path:
    """dbt's target folder (compiled SQL, manifest, docs), one per gold target."""
    return settings.gold_path / "dbt" / f"target-{target.label}"


def dbt_env(settings: Settings, target: GoldTarget) -> dict[str, str]:
    host, port = settings.spark_sql_endpoint
    env = child_env()
    env.update(
        {
            "DBT_SHOPLAKE_HOST": host,
            "DBT_SHOPLAKE_PORT": str(port),
            "DBT_SHOPLAKE_THREADS": str(settings.dbt_threads),
            "DBT_SHOPLAKE_POLL_INTERVAL": str(settings.dbt_poll_interval_s),
            "DBT_SHOPLAKE_LAKE_ROOT": target.lake_root.rstrip("/"),
            "DBT_SHOPLAKE_SCHEMA_PREFIX": target.schema_prefix,
            "DBT_SHOPLAKE_DASHBOARDS": settings.dashboards_endpoint,
            # The project's flag already says so; the variable would override it, so pin it.
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
            "DBT_PROJECT_DIR": str(PROJECT_DIR),
            "DBT_TARGET_PATH": str(target_dir(settings, target)),
            "DBT_LOG_PATH": str(settings.gold_path / "dbt" / "logs"),
        }
    )
    return env


def dbt_executable() -> str:
    return str(Path(sys.executable).parent / "dbt")


# Errors of the endpoint's Thrift session, not of the SQL: the Spark Thrift Server now and then
# fails to close a session (a Hive class pyspark does not ship), and dbt marks that node as
# errored although its statement ran. Such nodes are run again once, by `dbt retry`.
SESSION_ERRORS = ("TCloseSessionResp", "TTransportException", "NoClassDefFoundError")
RETRIED_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot"})


def _lost_to_the_session(run: DbtRun) -> bool:
    bad = run.failures
    return bool(bad) and all(
        node.status == "error" and any(e in (node.message or "") for e in SESSION_ERRORS)
        for node in bad
    )


def _with_retry(first: DbtRun, retry: DbtRun) -> DbtRun:
    """The first run's results, with the retried nodes' new ones in their place."""
    again = {node.unique_id: node for node in retry.results}
    kept = tuple(again.pop(node.unique_id, node) for node in first.results)
    return DbtRun(
        command=first.command,
        returncode=retry.returncode,
        seconds=first.seconds + retry.seconds,
        results=kept + tuple(again.values()),
        output=first.output + retry.output,
        artifacts=first.artifacts,
    )


def run_dbt(
    settings: Settings,
    target: GoldTarget,
    args: Sequence[str],
    *,
    check: bool = True,
    timeout_s: float = 3600.0,
) -> DbtRun:
    """Run one dbt command; its node results from run_results.json. `check` raises DbtFailed
    when dbt failed or any node errored or failed."""
    artifacts = target_dir(settings, target)
    results_file = artifacts / "run_results.json"
    results_file.unlink(missing_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    run = _invoke(settings, target, args, timeout_s)
    if not run.ok and args and args[0] in RETRIED_COMMANDS and _lost_to_the_session(run):
        log.warning(
            "dbt: %d node(s) lost to the endpoint's session; retrying them", len(run.failures)
        )
        run = _with_retry(run, _invoke(settings, target, ["retry"], timeout_s))
    if check and not run.ok:
        raise DbtFailed(run)
    return run


def _invoke(
    settings: Settings, target: GoldTarget, args: Sequence[str], timeout_s: float
) -> DbtRun:
    artifacts = target_dir(settings, target)
    began = time.perf_counter()
    done = subprocess.run(
        [dbt_executable(), *args],
        cwd=PROJECT_DIR,
        env=dbt_env(settings, target),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return DbtRun(
        command=tuple(args),
        returncode=done.returncode,
        seconds=time.perf_counter() - began,
        results=_results(artifacts / "run_results.json"),
        output=done.stdout + done.stderr,
        artifacts=artifacts,
    )


def _results(path: Path) -> tuple[NodeResult, ...]:
    if not path.exists():
        return ()
    document: dict[str, Any] = json.loads(path.read_text())
    return tuple(
        NodeResult(
            unique_id=str(result["unique_id"]),
            status=str(result["status"]),
            seconds=float(result.get("execution_time") or 0.0),
            message=result.get("message"),
            failures=result.get("failures"),
        )
        for result in document.get("results", [])
    )


@dataclass(frozen=True)
class Freshness:
    source: str
    status: str  # pass | warn | error | runtime error
    max_loaded_at: str | None
    age_seconds: float | None


@dataclass(frozen=True)
class FreshnessRun:
    run: DbtRun
    sources: tuple[Freshness, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(s.status in ("pass", "warn") for s in self.sources) and bool(self.sources)


def source_freshness(settings: Settings, target: GoldTarget) -> FreshnessRun:
    """`dbt source freshness`: the age of each silver source's newest row."""
    run = run_dbt(settings, target, ["source", "freshness"], check=False)
    sources_file = target_dir(settings, target) / "sources.json"
    sources: list[Freshness] = []
    if sources_file.exists():
        for result in json.loads(sources_file.read_text()).get("results", []):
            sources.append(
                Freshness(
                    source=str(result["unique_id"]).split(".", 2)[-1],
                    status=str(result["status"]),
                    max_loaded_at=result.get("max_loaded_at"),
                    age_seconds=result.get("max_loaded_at_time_ago_in_s"),
                )
            )
    return FreshnessRun(run, tuple(sources))
