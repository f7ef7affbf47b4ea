"""Every silver table of the registry is written by exactly one discovered job."""

from __future__ import annotations

from collections import Counter

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
