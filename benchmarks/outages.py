"""What shoppers and operators see when a dependency dies in the middle of a sale.

    .venv/bin/python -m benchmarks.outages --fault postgres --fault redis ...

For each fault, against `shoplake serve --workers 2 --relay` on the local stack: a checkout
load (demo/checkout_load.py: shoppers retry with the same Idempotency-Key) and a search
reader run; 2 s in, the service is killed with SIGKILL, 3 s later it is started again
(`shoplake stack`'s own start), and the load goes on for a few seconds after it is back.
Reported per fault: the status codes (and connection errors) before, during and after the
outage, the time from the restart to the first successful checkout, the state of every order
once the sweeper's grace period has passed, double charges, and the age of the oldest unsent
outbox row (the relay's lag) over the run. Faults: api-worker, relay (an extra
`shoplake outbox relay` process), postgres, redis, kafka, sandbox-gateway, elasticsearch, and
`none` (no fault: the outbox lag under `--workers 2`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import sqlalchemy as sa

from benchmarks.harness import api_process, write_result
from demo.checkout_load import CheckoutLoad, admin_headers
from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from serving.orders.tables import orders
from serving.payments.tables import payments
from serving.security import Role, issue_token
from shoplake.config import Settings, child_env, get_settings
from shoplake.db import make_engine
from shoplake.outbox import outbox
from shoplake.stack import Stack, StackError
from shoplake.stack.process import children

GRACE_S = 5.0
SERVICES = ("postgres", "redis", "kafka", "sandbox-gateway", "elasticsearch")


def restart(stack: Stack, name: str, timeout_s: float = 120.0) -> None:
    """Start the service again; Postgres may refuse while its old backends still exit."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            stack.service(name).start(lambda _m: None)
            return
        except StackError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


class OutboxLag:
    """Samples the age of the oldest unsent outbox row created since the start."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings, pool_size=1)
        with self.engine.connect() as conn:
            self.first_id = int(conn.execute(sa.select(sa.func.max(outbox.c.id))).scalar() or 0)
        self.samples: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop.wait(0.5):
            try:
                with self.engine.connect() as conn:
                    age = conn.execute(
                        sa.select(
                            sa.func.extract(
                                "epoch", sa.func.now() - sa.func.min(outbox.c.created_at)
                            )
                        ).where(outbox.c.id > self.first_id, outbox.c.sent_at.is_(None))
                    ).scalar()
                self.samples.append(float(age or 0.0))
            except sa.exc.SQLAlchemyError:
                continue  # Postgres is the fault being injected

    def unsent(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(
                        outbox.c.id > self.first_id, outbox.c.sent_at.is_(None)
                    )
                ).scalar_one()
            )


def _search_reader(base: str, stop: threading.Event, seen: list[tuple[float, str]]) -> None:
    with httpx.Client(base_url=base, timeout=10) as http:
        while not stop.is_set():
            began = time.monotonic()
            try:
                status = str(http.get("/v1/search", params={"q": "lantern"}).status_code)
            except httpx.TransportError as exc:
                status = f"no answer ({type(exc).__name__})"
            seen.append((began, status))
            time.sleep(0.1)


def _books(settings: Settings, keys: list[str]) -> dict[str, Any]:
    engine = make_engine(settings, pool_size=1)
    with engine.connect() as conn:
        statuses = Counter(
            str(s)
            for s in conn.execute(
                sa.select(orders.c.status).where(orders.c.idempotency_key.in_(keys))
            ).scalars()
        )
        multi_paid = conn.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(payments.c.order_id)
                .join(orders, orders.c.id == payments.c.order_id)
                .where(orders.c.idempotency_key.in_(keys))
                .group_by(payments.c.order_id)
                .having(sa.func.count() > 1)
                .subquery()
            )
        ).scalar_one()
    engine.dispose()
    return {"orders": dict(statuses), "orders_with_two_payments": int(multi_paid)}


def run_fault(
    fault: str, settings: Settings, shoppers: int, admin: tuple[str, str]
) -> dict[str, Any]:
    stack = Stack(settings)
    overrides: dict[str, Any] = {
        "orders_pending_grace_s": GRACE_S,
        "maintenance_interval_s": 2,
        "payment_breaker_open_s": 1,
        "search_breaker_open_s": 1,
    }
    relay_proc: subprocess.Popen[bytes] | None = None
    with api_process(workers=2, relay=True, **overrides) as (base, proc):
        if fault == "relay":
            relay_proc = subprocess.Popen(
                [sys.executable, "-m", "shoplake_cli.main", "outbox", "relay"],
                env=child_env(**overrides),
                stdout=subprocess.DEVNULL,
            )
        load = CheckoutLoad(
            base,
            settings,
            admin=admin_headers(base, *admin),
            shopper_headers=lambda: {
                "Authorization": "Bearer "
                + issue_token(settings, str(uuid.uuid4()), Role.CUSTOMER, "access")[0]
            },
            shoppers=shoppers,
            units=shoppers * 2,
            concurrency=4,
        )
        load.prepare()
        lag = OutboxLag(settings)
        lag.thread.start()
        stop = threading.Event()
        searches: list[tuple[float, str]] = []
        reader = threading.Thread(target=_search_reader, args=(base, stop, searches), daemon=True)
        reader.start()
        runner = threading.Thread(target=lambda: load.run(pace_s=0.2, stop=stop), daemon=True)
        began = time.monotonic()
        runner.start()
        time.sleep(2.0)
        killed_at = time.monotonic()
        if fault == "api-worker":
            workers = children(proc.pid)
            if workers:
                os.kill(workers[0], signal.SIGKILL)
            restarted_at = time.monotonic()
        elif fault == "relay":
            assert relay_proc is not None
            relay_proc.kill()
            time.sleep(3.0)
            relay_proc = subprocess.Popen(
                [sys.executable, "-m", "shoplake_cli.main", "outbox", "relay"],
                env=child_env(**overrides),
                stdout=subprocess.DEVNULL,
            )
            restarted_at = time.monotonic()
        elif fault in SERVICES:
            stack.service(fault).kill()
            time.sleep(3.0)
            restart(stack, fault)
            restarted_at = time.monotonic()
        else:
            restarted_at = killed_at
        time.sleep(6.0)
        stop.set()
        runner.join(120)
        reader.join(30)
        ended = time.monotonic()
        time.sleep(GRACE_S + 5.0)  # the sweeper settles what the outage left pending
        lag.stop.set()
        lag.thread.join(5)
        unsent = lag.unsent()
        record = load.record
        started = [load.keys[i] for i in range(len(load.keys)) if load.keys[i] in record.final]
        load.close()
        if relay_proc is not None:
            relay_proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                relay_proc.wait(10)
    window = (killed_at, restarted_at + 2.0)
    search_codes = {
        "before": Counter(s for t, s in searches if t < window[0]),
        "during": Counter(s for t, s in searches if window[0] <= t <= window[1]),
        "after": Counter(s for t, s in searches if t > window[1]),
    }
    first = record.first_success_after(restarted_at)
    return {
        "fault": fault,
        "checkouts_started": len(started),
        "checkout_status": {
            "before": dict(record.statuses((began, window[0]))),
            "during": dict(record.statuses(window)),
            "after": dict(record.statuses((window[1], ended))),
        },
        "not_json_answers": sum(1 for a in record.attempts if a.code == "NOT_JSON"),
        "search_status": {k: dict(v) for k, v in search_codes.items()},
        "outage_s": round(restarted_at - killed_at, 1),
        "restart_to_first_checkout_s": None if first is None else round(first, 2),
        "books_after_grace": _books(settings, started),
        "outbox_lag_max_s": round(max(lag.samples, default=0.0), 1),
        "outbox_unsent_at_end": unsent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--fault", action="append", help="repeatable; default: all")
    parser.add_argument("--shoppers", type=int, default=300)
    parser.add_argument("--label", default="", help="a tag for the result file (before/after)")
    args = parser.parse_args()
    faults = args.fault or ["none", "api-worker", "relay", *SERVICES]
    settings = get_settings()
    engine = make_engine(settings, pool_size=1)
    email, password = f"outage-admin-{uuid.uuid4().hex[:8]}@example.com", "outage admin password"
    with engine.begin() as conn:
        accounts.register(conn, UserRegister(email=email, password=password), role=Role.ADMIN)
    engine.dispose()
    results = []
    for fault in faults:
        result = run_fault(fault, settings, args.shoppers, (email, password))
        print(result, flush=True)
        results.append(result)
    write_result(f"outages{'-' + args.label if args.label else ''}", {"faults": results})


if __name__ == "__main__":
    main()
