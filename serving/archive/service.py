"""The archive as the serving domains see it: archived orders, read from the lake.

Archived orders left Postgres (`spark_jobs.order_archive` moved them); orders, fulfilment and
returns answer for them from here, in the shape they answer for live ones. The reader is one
per process (it caches), handed out through the unit of work like a store, so the unit tests
give the services an in-memory archive under the same name.
"""

from __future__ import annotations

import threading

from serving.archive.reader import ArchivedOrder, DeltaArchive, OrderArchive
from serving.unit_of_work import UnitOfWork
from shoplake.config import Settings

STORE = "archive"
_READERS: dict[tuple[str, float], DeltaArchive] = {}
_LOCK = threading.Lock()

__all__ = ["STORE", "ArchivedOrder", "OrderArchive", "of", "reader_for"]


def reader_for(settings: Settings) -> DeltaArchive:
    """The process's reader of the lake the settings point at."""
    key = (settings.lake_path, settings.archive_read_refresh_s)
    with _LOCK:
        if key not in _READERS:
            _READERS[key] = DeltaArchive(*key)
        return _READERS[key]


def of(uow: UnitOfWork) -> OrderArchive:
    """The archive for a use case in this unit of work."""
    return uow.store(STORE, lambda u: reader_for(u.settings))
