"""Every silver table of the registry is written by exactly one discovered job."""

from __future__ import annotations

from collections import Counter

from shoplake.events import REGISTRY
from shoplake.lake import SILVER_TABLES
from spark_jobs.silver.jobs import JOBS


def test_each_silver_table_has_exactly_one_job() -> None:
    writers = Counter(table.name for job in JOBS.values() for table in job.tables)
    assert {table.name: writers[table.name] for table in SILVER_TABLES} == {
        table.name: 1 for table in SILVER_TABLES
    }


def test_a_job_reads_every_type_its_tables_are_built_from() -> None:
    for job in JOBS.values():
        for table in job.tables:
            assert set(table.source_types) <= set(job.source_types), (job.name, table.name)


def test_every_registered_event_type_is_counted_by_exactly_one_silver_table() -> None:
    # A new event without a silver home would break outbox = Kafka = bronze = silver quietly.
    counted = Counter(t for table in SILVER_TABLES for t in table.counted_types)
    assert {t: counted[t] for t in REGISTRY} == dict.fromkeys(REGISTRY, 1)
