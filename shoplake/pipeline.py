"""How far the pipeline lags: the outbox behind the API, bronze behind Kafka.

Both the API's readiness (`serving/health.py`) and `shoplake stack status` ask here, so an
operator sees one answer. Bronze's position is read from its Structured Streaming checkpoint
(the offsets of the newest committed micro-batch), Kafka's from the brokers' end offsets of
the topics bronze subscribes to; the lag is the records between them, and bronze is *stalled*
when it is behind and has committed nothing for `bronze_lag_alarm_s`. A checkpoint outside the
local filesystem (s3a://...) is reported as unknown: read that lag from Spark's own metrics.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from sqlalchemy import Engine

from shoplake.config import Settings
from shoplake.lake import checkpoint_path, domain_topic_pattern
from shoplake.outbox import oldest_pending_age_s, pending_count

BRONZE_JOB = "bronze_events"


@dataclass(frozen=True)
class Lag:
    """One stage's lag: `state` is ok, behind, stalled (the alarm), not_started or unknown."""

    stage: str
    state: str
    seconds: float | None = None
    records: int | None = None
    detail: str | None = None

    @property
    def alarm(self) -> bool:
        return self.state == "stalled"

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "seconds": None if self.seconds is None else round(self.seconds, 1),
            "records": self.records,
            "detail": self.detail,
        }


def outbox_lag(engine: Engine, settings: Settings) -> Lag:
    """The age of the oldest unsent outbox row, against `outbox_lag_alarm_s`."""
    try:
        with engine.connect() as conn:
            age = oldest_pending_age_s(conn)
            pending = pending_count(conn)
    except sa.exc.SQLAlchemyError as exc:
        return Lag("outbox", "unknown", detail=f"database: {type(exc).__name__}")
    if pending == 0:
        return Lag("outbox", "ok", 0.0, 0)
    state = "stalled" if age > settings.outbox_lag_alarm_s else "behind"
    return Lag("outbox", state, age, pending)


def _committed_offsets(checkpoint: Path) -> tuple[dict[str, dict[int, int]], float] | None:
    """The source offsets of the newest committed batch, and when it was committed."""
    commits = [p for p in (checkpoint / "commits").glob("*") if p.name.isdigit()]
    if not commits:
        return None
    newest = max(commits, key=lambda p: int(p.name))
    lines = (checkpoint / "offsets" / newest.name).read_text().splitlines()
    offsets: dict[str, dict[int, int]] = {}
    for line in lines[2:]:  # "v1", the batch metadata, then one line per source
        source = json.loads(line)
        if isinstance(source, dict):
            for topic, partitions in source.items():
                offsets[topic] = {int(p): int(o) for p, o in partitions.items()}
    return offsets, newest.stat().st_mtime


def bronze_lag(settings: Settings, *, namespace: str | None = None) -> Lag:
    """Records in bronze's topics that bronze has not committed yet, and since when."""
    root = settings.lake_path
    if "://" in root and not root.startswith("file:"):
        return Lag("bronze", "unknown", detail="the checkpoint is not on a local filesystem")
    checkpoint = Path(checkpoint_path(root.removeprefix("file:"), BRONZE_JOB))
    try:
        committed = _committed_offsets(checkpoint)
    except (OSError, ValueError) as exc:
        return Lag("bronze", "unknown", detail=f"checkpoint unreadable: {exc}")
    if committed is None:
        return Lag("bronze", "not_started", detail="no bronze checkpoint under the lake root")
    offsets, committed_at = committed
    pattern = re.compile(domain_topic_pattern(namespace))
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            request_timeout_ms=3000,
            client_id="shoplake-lag-probe",
        )
    except KafkaError as exc:
        return Lag("bronze", "unknown", detail=f"kafka: {type(exc).__name__}")
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in consumer.topics()
            if pattern.match(topic)
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = consumer.end_offsets(partitions) if partitions else {}
        begins = consumer.beginning_offsets(partitions) if partitions else {}
    except KafkaError as exc:
        return Lag("bronze", "unknown", detail=f"kafka: {type(exc).__name__}")
    finally:
        consumer.close()
    behind = 0
    for tp, end in ends.items():
        done = offsets.get(tp.topic, {}).get(tp.partition, begins.get(tp, 0))
        behind += max(0, int(end) - int(done))
    since = max(0.0, time.time() - committed_at)
    if behind == 0:
        return Lag("bronze", "ok", 0.0, 0)
    state = "stalled" if since > settings.bronze_lag_alarm_s else "behind"
    return Lag("bronze", state, since, behind, "seconds since bronze last committed a batch")
