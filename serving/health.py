"""Liveness, readiness (each store checked) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

import redis
import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.access import Public

# For operators and their probes; /metrics behind a setting comes with the hardening work.
router = APIRouter(tags=["health"], dependencies=[Public])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a store is unavailable"}})
def readyz(request: Request) -> JSONResponse:
    """Ready when Postgres and Redis answer; Kafka's state is reported but does not gate."""
    checks: dict[str, Any] = {}
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        checks["postgres"] = "ok"
    except sa.exc.SQLAlchemyError as exc:
        checks["postgres"] = f"error: {type(exc).__name__}"
    try:
        request.app.state.redis.ping()
        checks["redis"] = "ok"
    except redis.RedisError as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    publisher = request.app.state.behaviour
    checks["kafka_behaviour_producer"] = "connected" if publisher.connected else "not connected"
    ready = checks["postgres"] == "ok" and checks["redis"] == "ok"
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
    )


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
