"""Every silver job: each module of `spark_jobs.silver` declares its jobs in `JOBS`.

A new entity's module is found here without a list to edit; jobs run in module order, each on
its own checkpoint, so their order does not matter for what they write.
"""

from __future__ import annotations

import importlib
import pkgutil

from shoplake.config import Settings
from spark_jobs import silver
from spark_jobs.silver.common import JobRun, SilverJob, run_jobs

_MACHINERY = frozenset({"common", "jobs"})


def _discover() -> dict[str, SilverJob]:
    jobs: dict[str, SilverJob] = {}
    for module in sorted(pkgutil.iter_modules(silver.__path__), key=lambda m: m.name):
        if module.name in _MACHINERY:
            continue
        declared: tuple[SilverJob, ...] = importlib.import_module(
            f"{silver.__name__}.{module.name}"
        ).JOBS
        for job in declared:
            if job.name in jobs:
                raise ValueError(f"silver job {job.name} declared twice")
            jobs[job.name] = job
    return jobs


JOBS: dict[str, SilverJob] = _discover()


def run_silver(
    settings: Settings, names: list[str] | None = None, lake_root: str | None = None
) -> list[JobRun]:
    """Run the named jobs (all by default) one after the other on one Spark session."""
    unknown = sorted(set(names or ()) - set(JOBS))
    if unknown:
        raise ValueError(f"unknown silver jobs {unknown}; known: {sorted(JOBS)}")
    return run_jobs(settings, [JOBS[name] for name in names or JOBS], lake_root)
