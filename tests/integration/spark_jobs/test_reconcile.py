"""Reconciliation: outbox (sent) = Kafka = bronze (+ rejected) = silver per event type, and a
mismatch makes `shoplake lake reconcile` exit non-zero."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from sqlalchemy import text
from typer.testing import CliRunner

from demo.loadgen import (
    ShopStory,
    domain_topics,
    event_records,
    produce,
)
from shoplake.config import Settings, get_settings
from shoplake.db import make_engine
from shoplake.kafka import ensure_topics
from shoplake.lake import domain_topic_pattern
from shoplake_cli.main import app
from spark_jobs.reconcile import INVALID, reconcile
from spark_jobs.silver.jobs import run_silver
from streaming.bronze import BronzeJob, start


@pytest.fixture
def outbox_cleanup(settings: Settings, unique: str) -> Iterator[str]:
    """The test's outbox rows are in its own topics; they are deleted afterwards."""
    yield unique
    engine = make_engine(settings, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text("delete from outbox where topic like :t"), {"t": f"shop.t{unique}.%"})
    engine.dispose()


def test_counts_reconcile_and_a_gap_fails_the_command(
    spark: SparkSession,
    settings: Settings,
    unique: str,
    tmp_path: Path,
    outbox_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    namespace = f"t{unique}"
    pattern = domain_topic_pattern(namespace)
    topics = domain_topics(namespace)
    ensure_topics(settings, topics.values(), partitions=1)
    events = list(ShopStory(seed=41, products=10, users=20).events(300))
    produce(settings, event_records(events, topics))
    produce(settings, [(topics["order"], None, b"garbage"), (topics["cart"], None, b"[]")])
    # The order events went through the outbox (as serving does); behaviour events never do.
    orders = [e for e in events if e.domain == "order"]
    engine = make_engine(settings, pool_size=1)
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into outbox (event_id, event_type, topic, key, payload, sent_at) "
                "values (cast(:id as uuid), :type, :topic, :key, cast(:payload as jsonb), now())"
            ),
            [
                {
                    "id": e.id,
                    "type": e.type,
                    "topic": topics["order"],
                    "key": e.subject,
                    "payload": json.dumps(e.model_dump(mode="json")),
                }
                for e in orders
            ],
        )
    engine.dispose()
    root = str(tmp_path / "lake")
    bronze = BronzeJob.from_settings(
        settings, lake_root=root, topic_pattern=pattern, deadletter_topic=f"{namespace}.dlq"
    )
    start(spark, bronze, once=True).awaitTermination()
    run_silver(settings, lake_root=root)

    result = reconcile(spark, settings, lake_root=root, topic_pattern=pattern)
    assert result.ok, [(r.event_type, r.problems) for r in result.rows if r.problems]
    assert result.outbox_in_play
    by_type = Counter(e.type for e in events)
    placed = result.row("shop.order.OrderPlaced.v1")
    assert placed.outbox == placed.kafka == placed.bronze == placed.silver
    assert placed.kafka == by_type["shop.order.OrderPlaced.v1"] > 0
    assert result.row("shop.behaviour.ProductViewed.v1").outbox is None
    invalid = result.row(INVALID)
    assert (invalid.kafka, invalid.bronze, invalid.rejected) == (2, 0, 2)

    # Events that reached Kafka but not the lake: the counts no longer reconcile.
    late = list(ShopStory(seed=42, products=3, users=3).events(20))
    produce(settings, event_records(late, topics))
    gap = reconcile(spark, settings, lake_root=root, topic_pattern=pattern)
    assert not gap.ok
    assert any("kafka" in p for r in gap.rows for p in r.problems)

    monkeypatch.setenv("SHOPLAKE_LAKE_ROOT", root)
    get_settings.cache_clear()
    try:
        cli = CliRunner().invoke(app, ["lake", "reconcile", "--topics", pattern])
    finally:
        monkeypatch.delenv("SHOPLAKE_LAKE_ROOT")
        get_settings.cache_clear()
    assert cli.exit_code == 1, cli.output
    assert "lake reconciliation" in cli.output and "does not reconcile" in cli.output
