"""The fault-injection suite's machinery: the API as operators run it (`shoplake serve
--workers 2` and a `shoplake outbox relay` beside it, as child processes with short sweep and
breaker times), a kill -9 and restart of one service, and the books an outage must leave right."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from demo.checkout_load import LoadRecord
from serving.inventory.tables import stock_levels
from serving.orders.tables import orders
from serving.payments.factory import make_gateway
from serving.payments.gateway import PaymentStatus
from serving.payments.tables import payments
from shoplake.config import Settings, child_env
from shoplake.stack import Stack, StackError
from shoplake.stack.process import children as process_children
from shoplake.stack.process import free_port

GRACE_S = 4.0  # orders_pending_grace_s of the API under fault
# What the API under fault runs with: a sweep every second, breakers that retry after a second,
# 503s that ask for a retry after a second, and no limit the load could reach.
FAULT_SETTINGS: dict[str, object] = {
    "orders_pending_grace_s": GRACE_S,
    "maintenance_interval_s": 1,
    "payment_breaker_open_s": 1,
    "search_breaker_open_s": 1,
    "dependency_retry_after_s": 1,
    "health_probe_interval_s": 1,
    "readiness_gates": '["postgres","redis"]',
    "rate_limit_auth_per_minute": 10**6,
    "rate_limit_write_per_minute": 10**6,
    "rate_limit_checkout_per_minute": 10**6,
    "rate_limit_cart_per_minute": 10**6,
    "rate_limit_login_account_per_minute": 10**6,
    "rate_limit_register_per_minute": 10**6,
    "login_lockout_failures": 10**6,
    "log_level": "WARNING",
}


def children(pid: int) -> list[int]:
    """The live uvicorn workers under a supervisor (multiprocessing's resource tracker and
    dead workers not yet reaped are left out)."""
    workers = []
    for child in process_children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            state = Path(f"/proc/{child}/stat").read_text().split(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if b"spawn_main" in cmdline and state != "Z":
            workers.append(child)
    return workers


@dataclass
class ServedApi:
    """`shoplake serve --workers 2` and one `shoplake outbox relay`, both restartable."""

    base: str
    log: Path
    server: subprocess.Popen[bytes]
    relay: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def start_relay(self) -> None:
        with self.log.open("ab") as out:
            self.relay = subprocess.Popen(
                [sys.executable, "-m", "shoplake_cli.main", "outbox", "relay"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill_relay(self) -> None:
        assert self.relay is not None
        self.relay.send_signal(signal.SIGKILL)
        self.relay.wait(10)

    def kill_worker(self) -> int:
        workers = children(self.server.pid)
        assert workers, "the uvicorn supervisor has no worker to kill"
        os.kill(workers[0], signal.SIGKILL)
        return workers[0]

    def workers(self) -> list[int]:
        return children(self.server.pid)

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.ready():
            if self.server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not become ready; see {self.log}")
            time.sleep(0.3)

    def stop(self) -> None:
        for proc in (self.relay, self.server):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(30)


def serve(log: Path) -> ServedApi:
    port = free_port()
    env = child_env(**FAULT_SETTINGS)
    with log.open("ab") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shoplake_cli.main",
                "serve",
                "--workers",
                "2",
                "--no-relay",
                "--port",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    api = ServedApi(f"http://127.0.0.1:{port}", log, server, env=env)
    api.start_relay()
    api.wait_ready()
    return api


def restart(stack: Stack, name: str, timeout_s: float = 180.0) -> float:
    """Start the killed service again (Postgres may refuse while its orphaned backends still
    exit); the moment it is healthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            stack.service(name).start(lambda _m: None)
            return time.monotonic()
        except StackError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@dataclass(frozen=True)
class Books:
    statuses: Counter[str]
    pending: int
    confirmed_keys: frozenset[str]
    orders_with_two_payments: int
    confirmed_without_authorized_payment: int
    failed_with_authorized_payment: int
    gateway_holds_money: frozenset[str]
    on_hand: int
    reserved: int


def books(engine: Engine, settings: Settings, keys: list[str], sku: str) -> Books:
    """What the database and the gateway hold for the load's keys and product."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(orders.c.id, orders.c.idempotency_key, orders.c.status).where(
                orders.c.idempotency_key.in_(keys)
            )
        ).all()
        by_order: dict[str, list[Any]] = {row.id: [] for row in rows}
        for payment in conn.execute(
            sa.select(payments.c.order_id, payments.c.status).where(
                payments.c.order_id.in_(list(by_order))
            )
        ):
            by_order[payment.order_id].append(payment.status)
        on_hand, reserved = conn.execute(
            sa.select(
                sa.func.sum(stock_levels.c.on_hand), sa.func.sum(stock_levels.c.reserved)
            ).where(stock_levels.c.sku == sku)
        ).one()
    holding = {PaymentStatus.AUTHORIZED.value, PaymentStatus.CAPTURED.value}
    gateway = make_gateway(settings)
    held = {
        key
        for key in {row.idempotency_key for row in rows}
        if (found := gateway.get(key)) is not None
        and found.status in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED)
    }
    return Books(
        statuses=Counter(str(row.status) for row in rows),
        pending=sum(1 for row in rows if row.status == "PENDING_PAYMENT"),
        confirmed_keys=frozenset(r.idempotency_key for r in rows if r.status == "CONFIRMED"),
        orders_with_two_payments=sum(1 for p in by_order.values() if len(p) > 1),
        confirmed_without_authorized_payment=sum(
            1 for r in rows if r.status == "CONFIRMED" and not set(by_order[r.id]) & holding
        ),
        failed_with_authorized_payment=sum(
            1 for r in rows if r.status == "PAYMENT_FAILED" and set(by_order[r.id]) & holding
        ),
        gateway_holds_money=frozenset(held),
        on_hand=int(on_hand or 0),
        reserved=int(reserved or 0),
    )


def settled_books(
    engine: Engine, settings: Settings, keys: list[str], sku: str, timeout_s: float = 60.0
) -> Books:
    """The books once the sweeper had its grace period: no order left PENDING_PAYMENT."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = books(engine, settings, keys, sku)
        if found.pending == 0 or time.monotonic() > deadline:
            return found
        time.sleep(1.0)


def problems(
    record: LoadRecord, window: tuple[float, float], *, resets_at: float | None
) -> list[str]:
    """What an outage must never show a client: a 500 or an answer that is not JSON at any
    time, a 503 outside the outage window, an unanswered request — except those in flight on
    a worker killed at `resets_at` (a connection to a killed process dies with it)."""
    found = []
    for a in record.attempts:
        if a.status is not None and a.status >= 500 and a.status != 503:
            found.append(f"{a.status} at {a.started:.1f}")
        if a.code == "NOT_JSON":
            found.append(f"a {a.status} that is not JSON at {a.started:.1f}")
        # In flight at the kill counts as inside: it met the outage.
        if a.status == 503 and (a.ended < window[0] or a.started > window[1]):
            found.append(f"503 {a.code} outside the outage at {a.started:.1f} {window}")
        if a.status is None:
            in_flight = (
                resets_at is not None and a.started <= resets_at + 0.5 and a.ended >= resets_at
            )
            if not in_flight:
                found.append(f"no answer ({a.error}) at {a.started:.1f}")
    return found
