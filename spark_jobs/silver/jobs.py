"""Every silver job, in the order `shoplake lake silver` runs them."""

from __future__ import annotations

from shoplake.config import Settings
from spark_jobs.silver import (
    behaviour,
    carts,
    inventory,
    orders,
    payments,
    products,
    users,
    wishlists,
)
from spark_jobs.silver.common import JobRun, SilverJob, run_jobs

JOBS: dict[str, SilverJob] = {
    job.name: job
    for job in (
        users.JOB,
        products.JOB,
        orders.JOB,
        payments.JOB,
        inventory.JOB,
        carts.JOB,
        behaviour.VIEWS_JOB,
        behaviour.SEARCHES_JOB,
        behaviour.CLICKS_JOB,
        wishlists.JOB,
    )
}


def run_silver(
    settings: Settings, names: list[str] | None = None, lake_root: str | None = None
) -> list[JobRun]:
    """Run the named jobs (all by default) one after the other on one Spark session."""
    unknown = sorted(set(names or ()) - set(JOBS))
    if unknown:
        raise ValueError(f"unknown silver jobs {unknown}; known: {sorted(JOBS)}")
    return run_jobs(settings, [JOBS[name] for name in names or JOBS], lake_root)
