"""A history of its own, for the tests and the benchmarks: a scratch Postgres database, Kafka
topics of its own namespace and a lake root of its own, landed by the normal path (outbox relay
→ Kafka → bronze → silver), so it never touches the stack's own database, topics or lake."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr
from pyspark.sql import SparkSession

from demo.history.run import HistoryRun, simulate_history
from demo.history.world import HistoryParams
from shoplake import db
from shoplake.config import Settings
from shoplake.lake import domain_topic_pattern
from spark_jobs.silver.jobs import run_silver
from streaming.bronze import BronzeJob, start


@dataclass(frozen=True)
class ScratchHistory:
    settings: Settings  # pointed at the scratch database
    lake_root: str
    namespace: str
    run: HistoryRun


def land(spark: SparkSession, settings: Settings, lake_root: str, namespace: str) -> None:
    """Bronze catches up with the namespace's topics, then every silver job merges."""
    job = BronzeJob.from_settings(
        settings,
        lake_root=lake_root,
        topic_pattern=domain_topic_pattern(namespace),
        deadletter_topic=f"{namespace}.deadletter",
    )
    query = start(spark, job, once=True)
    query.awaitTermination()
    failure = query.exception()
    if failure is not None:
        raise RuntimeError(f"bronze failed on {namespace}'s topics: {failure}")
    run_silver(settings, lake_root=lake_root)


@contextmanager
def scratch_database(settings: Settings, name: str, **updates: Any) -> Iterator[Settings]:
    """A new database `name` on the stack's server, migrated; the settings pointed at it (and
    `updates`); dropped on the way out."""
    admin = db.make_engine(settings, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = settings.database_endpoint.rsplit("/", 1)[0] + f"/{name}"
    scratch = settings.model_copy(update={"database_url": SecretStr(url), **updates})
    try:
        db.upgrade(scratch)
        yield scratch
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


@contextmanager
def scratch_history(
    settings: Settings, spark: SparkSession, params: HistoryParams, lake_root: str
) -> Iterator[ScratchHistory]:
    """`params`' history simulated into a scratch database and topics, landed under
    `lake_root`; the database goes on the way out (the lake is the caller's)."""
    unique = uuid.uuid4().hex[:8]
    namespace = f"h{unique}"
    with scratch_database(settings, f"shoplake_history_{unique}") as scratch:
        run = simulate_history(scratch, params, namespace=namespace, lake_root=lake_root)
        land(spark, scratch, lake_root, namespace)
        yield ScratchHistory(scratch, lake_root, namespace, run)
