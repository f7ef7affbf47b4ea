"""Lake test data: bronze rows for events, on a fixed clock, as the bronze stream writes them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from pyspark.sql import DataFrame, SparkSession

from shoplake.events import CloudEvent, EventData
from shoplake.lake import BRONZE_EVENTS

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(data: EventData, event_id: str, minutes: int) -> CloudEvent:
    return data.to_event("/tests", event_id=event_id, time=at(minutes))


def bronze(spark: SparkSession, events: Iterable[CloudEvent]) -> DataFrame:
    """`bronze.events` rows for these events, as the bronze stream would write them."""
    rows = [
        (
            e.id,
            e.type,
            e.source,
            e.subject,
            e.time.replace(tzinfo=None),
            e.time.date(),
            e.specversion,
            e.datacontenttype,
            e.dataschema,
            json.dumps(e.data),
            f"shop.{e.domain}.v1",
            0,
            offset,
            e.time.replace(tzinfo=None),
            e.time.replace(tzinfo=None),
        )
        for offset, e in enumerate(events)
    ]
    return spark.createDataFrame(rows, BRONZE_EVENTS.ddl())


def day(minutes: int) -> date:
    return at(minutes).date()
