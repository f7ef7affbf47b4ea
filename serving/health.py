"""Liveness, readiness per dependency, the pipeline's alarms, and Prometheus metrics.

`/readyz` answers with one entry per dependency: Postgres and Redis are asked live (short
timeouts), Kafka, Elasticsearch, the payment gateway and the two lags (the oldest unsent
outbox row, bronze behind Kafka: `shoplake/pipeline.py`) come from the `HealthMonitor`, a
background probe every `health_probe_interval_s`, so a readiness call never waits on a slow
dependency. The checks named in `readiness_gates` (Postgres, Redis, the outbox and bronze
alarms by default) turn it red (503); the others are reported only, since the API still
serves without them (search answers 503 alone, checkout fails over to PAYMENT_UNAVAILABLE).
A lag past its threshold is logged at error level when the alarm starts and every minute
while it lasts, and exported as `shoplake_outbox_oldest_unsent_age_seconds`,
`shoplake_bronze_lag_records` and `shoplake_pipeline_alarm{stage}`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import redis
import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import Engine

from serving.access import Public
from shoplake import pipeline
from shoplake.config import Settings
from shoplake.search.adapter import make_client

log = logging.getLogger(__name__)

OUTBOX_AGE = Gauge(
    "shoplake_outbox_oldest_unsent_age_seconds", "age of the oldest outbox row not yet sent"
)
OUTBOX_PENDING = Gauge("shoplake_outbox_unsent_rows", "outbox rows not yet sent")
BRONZE_LAG = Gauge("shoplake_bronze_lag_records", "Kafka records bronze has not committed yet")
ALARM = Gauge("shoplake_pipeline_alarm", "1 while a pipeline stage is stalled", ["stage"])
DEPENDENCY_UP = Gauge("shoplake_dependency_up", "1 while a dependency answers", ["dependency"])

router = APIRouter(tags=["health"], dependencies=[Public])


class HealthMonitor:
    """Probes the slow dependencies and the lags in a daemon thread; readers get the latest."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        relay_role: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.relay_role = relay_role
        self.checks: dict[str, dict[str, Any]] = {}
        self._alarm_logged: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="health-monitor", daemon=True)
        self._kafka: KafkaAdminClient | None = None
        self._search: Any = None
        # One client for the monitor's life: a new one per probe builds a TLS context each time.
        self._http = httpx.Client(timeout=1.0)

    def start(self) -> None:
        self.probe()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        if self._kafka is not None:
            self._kafka.close()
        if self._search is not None:
            self._search.close()
        self._http.close()

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.health_probe_interval_s):
            try:
                self.probe()
            except Exception:  # a probe must never end the monitor
                log.exception("health probe failed")

    def probe(self) -> None:
        checks = {
            "kafka": self._probe_kafka(),
            "elasticsearch": self._probe_search(),
            "payment_gateway": self._probe_gateway(),
        }
        for name, check in checks.items():
            DEPENDENCY_UP.labels(name).set(1 if check["status"] == "ok" else 0)
        outbox = pipeline.outbox_lag(self.engine, self.settings)
        bronze = pipeline.bronze_lag(self.settings)
        OUTBOX_AGE.set(outbox.seconds or 0.0)
        OUTBOX_PENDING.set(outbox.records or 0)
        BRONZE_LAG.set(bronze.records or 0)
        for lag in (outbox, bronze):
            ALARM.labels(lag.stage).set(1 if lag.alarm else 0)
            checks[lag.stage] = {"status": "alarm" if lag.alarm else "ok", **lag.as_dict()}
            self._log_alarm(lag)
        role = self.relay_role()
        if role is not None:
            checks["outbox"]["relay_in_this_worker"] = role
        now = time.time()
        for check in checks.values():
            check["checked_at"] = round(now, 1)
        self.checks = checks

    def _log_alarm(self, lag: pipeline.Lag) -> None:
        if not lag.alarm:
            if self._alarm_logged.pop(lag.stage, None) is not None:
                log.warning("%s lag alarm over: %s", lag.stage, json.dumps(lag.as_dict()))
            return
        last = self._alarm_logged.get(lag.stage)
        if last is None or time.monotonic() - last > 60:
            self._alarm_logged[lag.stage] = time.monotonic()
            log.error(
                json.dumps({"event": "pipeline_stalled", "stage": lag.stage, **lag.as_dict()})
            )

    def _probe_kafka(self) -> dict[str, Any]:
        try:
            if self._kafka is None:
                self._kafka = KafkaAdminClient(
                    bootstrap_servers=self.settings.kafka_bootstrap_servers,
                    request_timeout_ms=2000,
                    client_id="shoplake-readiness",
                )
            brokers = self._kafka.describe_cluster().get("brokers") or []
            return {"status": "ok" if brokers else "error", "brokers": len(brokers)}
        except (KafkaError, OSError, ValueError) as exc:
            if self._kafka is not None:
                with contextlib.suppress(Exception):  # a broken client is dropped anyway
                    self._kafka.close()
            self._kafka = None
            return {"status": "error", "error": type(exc).__name__}

    def _probe_search(self) -> dict[str, Any]:
        try:
            if self._search is None:
                self._search = make_client(self.settings, timeout_s=1.5)
            health = self._search.options(request_timeout=1.5).cluster.health()
            status = str(health.get("status"))
            return {"status": "ok" if status in {"green", "yellow"} else "error", "cluster": status}
        except Exception as exc:  # the client raises several families; all mean "not now"
            return {"status": "error", "error": type(exc).__name__}

    def _probe_gateway(self) -> dict[str, Any]:
        if self.settings.payment_gateway != "sandbox":
            return {"status": "ok", "detail": "not probed (an outside gateway)"}
        try:
            response = self._http.get(f"{self.settings.sandbox_gateway_endpoint}/health")
            return {"status": "ok" if response.status_code == 200 else "error"}
        except httpx.HTTPError as exc:
            return {"status": "error", "error": type(exc).__name__}


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a gating dependency is unavailable"}})
def readyz(request: Request) -> JSONResponse:
    """One entry per dependency and per pipeline lag; red when a gating one fails."""
    state = request.app.state
    settings: Settings = state.settings
    checks: dict[str, Any] = {}
    try:
        with state.engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        checks["postgres"] = {"status": "ok"}
    except sa.exc.SQLAlchemyError as exc:
        checks["postgres"] = {"status": "error", "error": type(exc).__name__}
    try:
        state.redis.ping()
        checks["redis"] = {"status": "ok"}
    except redis.RedisError as exc:
        checks["redis"] = {"status": "error", "error": type(exc).__name__}
    monitor: HealthMonitor | None = getattr(state, "health_monitor", None)
    if monitor is not None:
        checks.update(monitor.checks)
    publisher = state.behaviour
    checks["kafka_behaviour_producer"] = {
        "status": "ok" if publisher.connected else "not connected"
    }
    failing = [
        name
        for name in settings.readiness_gates
        if name in checks and checks[name]["status"] != "ok"
    ]
    for name, check in checks.items():
        check["gates_readiness"] = name in settings.readiness_gates
    return JSONResponse(
        {"status": "unavailable" if failing else "ok", "failing": failing, "checks": checks},
        503 if failing else 200,
        headers={"Cache-Control": "no-store"},
    )


def metrics() -> Response:
    """Prometheus metrics of this worker."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
