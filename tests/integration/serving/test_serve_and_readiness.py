"""Operating the API (issue 15): every option of `shoplake serve` reaches every worker and the
relay runs once per deployment; readiness reports each dependency; a stopped relay and a bronze
stream that stopped committing are loud (readiness red, an error log line, metrics)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from kafka import KafkaProducer
from sqlalchemy import Engine

from serving.app import create_app
from serving.outbox import RELAY_LOCK_ID, RelayThread
from shoplake import pipeline
from shoplake.config import Settings, child_env
from shoplake.db import make_engine
from shoplake.events.user import UserRegistered
from shoplake.kafka import ensure_topics
from shoplake.lake import checkpoint_path
from shoplake.outbox import outbox, record
from shoplake.stack.process import free_port
from tests.support.api import generous_limits


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings, pool_size=2)
    yield engine
    engine.dispose()


def _relay_holders(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "select count(*) from pg_locks where locktype = 'advisory' "
                    "and classid = 0 and objid = :id and granted"
                ),
                {"id": RELAY_LOCK_ID},
            ).scalar_one()
        )


def _event(engine: Engine) -> str:
    with engine.begin() as conn:
        data = UserRegistered(user_id=str(uuid.uuid4()), email="w@example.com", role="customer")
        return record(conn, data, "/tests").id


def _sent(engine: Engine, event_id: str) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(sa.select(outbox.c.sent_at).where(outbox.c.event_id == event_id)).scalar()
            is not None
        )


def test_two_workers_take_every_option_and_run_one_relay(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shoplake_cli.main",
                "serve",
                "--workers",
                "2",
                "--relay",
                "--port",
                str(port),
                "--log-level",
                "debug",
            ],
            env=child_env(readiness_gates='["postgres","redis"]'),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        ready = 0
        while ready < 2 and time.monotonic() < deadline:
            ready = log.read_text(errors="replace").count("worker ready:")
            time.sleep(0.3)
        assert ready == 2, log.read_text(errors="replace")[-3000:]
        text = log.read_text(errors="replace")
        # --log-level debug reached both workers; --relay too; both know there are two.
        assert text.count("api_workers=2 relay_in_app=True log_level=debug") == 2, text[-2000:]
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        event_id = _event(engine)
        deadline = time.monotonic() + 30
        while not _sent(engine, event_id) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _sent(engine, event_id), "no relay published with --workers 2 --relay"
        assert _relay_holders(engine) == 1  # one leader; the other worker stands by
        roles = set()
        for _ in range(20):
            check = httpx.get(f"{base}/readyz", timeout=5).json()["checks"]["outbox"]
            roles.add(check.get("relay_in_this_worker"))
        assert "leader" in roles
        assert "server" not in httpx.get(f"{base}/healthz").headers  # no product, no version
    finally:
        proc.terminate()
        proc.wait(30)


def test_readiness_names_each_dependency(client: TestClient) -> None:
    body = client.get("/readyz").json()
    for name in (
        "postgres",
        "redis",
        "kafka",
        "elasticsearch",
        "payment_gateway",
        "outbox",
        "bronze",
    ):
        assert name in body["checks"], name
        assert "status" in body["checks"][name]
    assert body["checks"]["postgres"]["status"] == "ok"


def test_a_stopped_relay_turns_readiness_red_and_logs_an_error(
    settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    watched = generous_limits(settings).model_copy(
        update={
            "outbox_relay_in_app": True,
            "outbox_lag_alarm_s": 2.0,
            "health_probe_interval_s": 0.3,
            "readiness_gates": ["postgres", "redis", "outbox"],
        }
    )
    with TestClient(create_app(watched)) as client:
        app_state = client.app.state  # type: ignore[attr-defined]
        relay: RelayThread = app_state.relay

        def ready() -> int:
            return int(client.get("/readyz").status_code)

        deadline = time.monotonic() + 120  # the relay first drains what the suite left
        while ready() != 200 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert ready() == 200

        relay.stop()
        _event(engine)
        with caplog.at_level(logging.ERROR, logger="serving.health"):
            deadline = time.monotonic() + 20
            while ready() != 503 and time.monotonic() < deadline:
                time.sleep(0.3)
            body = client.get("/readyz").json()
        assert body["failing"] == ["outbox"]
        assert body["checks"]["outbox"]["status"] == "alarm"
        alarms = [
            json.loads(r.getMessage())
            for r in caplog.records
            if "pipeline_stalled" in r.getMessage()
        ]
        # Other stages may be alarming too (bronze, when no stream runs beside the suite).
        assert any(alarm["stage"] == "outbox" for alarm in alarms), alarms
        # The gauges are the process's (Prometheus' default registry): the suite's shared API,
        # probing every 2 s with its 60 s threshold, writes 0 over this app's 1 now and then;
        # this app writes 1 again within its 0.3 s interval.
        alarm = 'shoplake_pipeline_alarm{stage="outbox"} 1.0'
        deadline = time.monotonic() + 10
        metrics = client.get("/metrics").text
        while alarm not in metrics and time.monotonic() < deadline:
            time.sleep(0.1)
            metrics = client.get("/metrics").text
        assert alarm in metrics
        assert "shoplake_outbox_oldest_unsent_age_seconds" in metrics

        restarted = RelayThread(relay.relay)
        restarted.start()
        try:
            deadline = time.monotonic() + 30
            while ready() != 200 and time.monotonic() < deadline:
                time.sleep(0.3)
            assert ready() == 200
        finally:
            restarted.stop()


def test_bronze_behind_kafka_with_no_progress_is_an_alarm(
    settings: Settings, tmp_path: Path, unique: str
) -> None:
    namespace = f"lag{unique}"
    topic = f"shop.{namespace}.cart.v1"
    ensure_topics(settings, [topic], partitions=1)
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    for n in range(5):
        producer.send(topic, key=b"k", value=json.dumps({"n": n}).encode())
    producer.flush()
    producer.close()
    lake = tmp_path / "lake"
    checkpoint = Path(checkpoint_path(str(lake), pipeline.BRONZE_JOB))
    (checkpoint / "offsets").mkdir(parents=True)
    (checkpoint / "commits").mkdir()
    (checkpoint / "offsets" / "0").write_text(
        'v1\n{"batchWatermarkMs":0}\n' + json.dumps({topic: {"0": 2}}) + "\n"
    )
    commit = checkpoint / "commits" / "0"
    commit.write_text('v1\n{"nextBatchWatermarkMs":0}\n')
    scoped = settings.model_copy(update={"lake_root": lake, "bronze_lag_alarm_s": 60.0})

    fresh = pipeline.bronze_lag(scoped, namespace=namespace)
    assert (fresh.state, fresh.records) == ("behind", 3)  # behind, but it committed just now
    old = time.time() - 3600
    import os

    os.utime(commit, (old, old))
    stalled = pipeline.bronze_lag(scoped, namespace=namespace)
    assert stalled.alarm and stalled.records == 3 and (stalled.seconds or 0) > 3000
    none = pipeline.bronze_lag(settings.model_copy(update={"lake_root": tmp_path / "empty"}))
    assert none.state == "not_started" and not none.alarm
