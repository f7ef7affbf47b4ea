"""The archive job's log in Postgres: one row per batch, planned before anything is copied.

A batch is the list of orders it moves, fixed when it is planned, so that a rerun after a crash
finishes exactly that list (never an order that became eligible later and was never copied).
Its `version` is also the Delta transaction version of the copy (`txn` of
`shoplake.archive.contract.APP_ID`), strictly increasing. States: `copying` (planned; the copy
may be partly or wholly in Delta), `done` (verified, deleted from Postgres, event recorded),
`discarded` (the verification failed: the copy was deleted from Delta, the orders stay here).
The table is the kernel's, like the outbox, because the batch layer writes it and serving's
migrations must create it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from shoplake.db import metadata

BATCH_STATES = ("copying", "done", "discarded")

archive_batches = sa.Table(
    "archive_batches",
    metadata,
    sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
    sa.Column("order_ids", ARRAY(sa.Text), nullable=False),
    sa.Column("state", sa.Text, nullable=False, server_default="copying"),
    # Rows per archive table and the per-month checksums the copy was verified with.
    sa.Column("verified", JSONB),
    sa.Column(
        "planned_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("state in ('copying', 'done', 'discarded')", name="state"),
    sa.Index("ix_archive_batches_open", "version", postgresql_where=sa.text("state = 'copying'")),
)
