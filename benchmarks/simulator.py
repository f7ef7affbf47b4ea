"""Shopper-history simulator throughput: `Simulation` into a sink that serialises every fact as
the real one does (`PostgresKafkaSink`: a behaviour event's JSON for Kafka, an outbox event's
JSON text for COPY, a tuple per stock movement and status change), without any
I/O, so the figure is what generation and serialisation alone allow.

The time is split between generation (the simulation, the events' models included) and
serialisation (the sink's per-event work). `--digest` also hashes everything the sink was given,
in order: two runs with the same figures and seed give the same digest when the history is the
same byte for byte.

    .venv/bin/python -m benchmarks.simulator            # 180 days, 5000 users, 2000 products
    .venv/bin/python -m benchmarks.simulator --quick    # 30 days, 400 users, 150 products
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from datetime import UTC, date, datetime
from typing import Any

from benchmarks.harness import RESULTS_DIR, write_result
from demo.history.simulate import Simulation
from demo.history.world import HistoryParams, build_world
from demo.history.writer import APPEND_ONLY
from shoplake.events import CloudEvent

# A fixed end, so that a seed gives the same history on every run (the CLI's ends now).
END = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
FULL = {"days": 180, "users": 5000, "products": 2000}
QUICK = {"days": 30, "users": 400, "products": 150}


class SerialisingSink:
    """The real sink's per-fact work, kept in memory: nothing is sent or copied."""

    def __init__(self, digest: bool) -> None:
        self.behaviour: list[bytes] = []
        self.outbox: list[tuple[Any, ...]] = []
        self.movements: list[tuple[Any, ...]] = []
        self.status_changes: list[tuple[Any, ...]] = []
        self.seconds = 0.0  # spent in the sink
        self._hash = hashlib.sha256() if digest else None

    def event(self, event: CloudEvent, *, outbox: bool) -> None:
        began = time.perf_counter()
        if not outbox:
            value = event.to_json()
            self.behaviour.append(value)
            if self._hash is not None:
                self._hash.update(value)
        else:
            payload = event.to_json().decode()
            self.outbox.append((event.id, event.type, event.subject, payload, event.time))
            if self._hash is not None:
                self._hash.update(payload.encode())
        self.seconds += time.perf_counter() - began

    def movement(self, row: dict[str, Any]) -> None:
        began = time.perf_counter()
        values = tuple(row[c] for c in APPEND_ONLY["stock_movements"])
        self.movements.append(values)
        if self._hash is not None:
            self._hash.update(repr(values).encode())
        self.seconds += time.perf_counter() - began

    def status_change(self, row: dict[str, Any]) -> None:
        began = time.perf_counter()
        values = tuple(row[c] for c in APPEND_ONLY["order_status_history"])
        self.status_changes.append(values)
        if self._hash is not None:
            self._hash.update(repr(values).encode())
        self.seconds += time.perf_counter() - began

    def day_done(self, day: date, days_total: int) -> None:
        # The real sink COPYs the day's rows here: the buffers are emptied, not written.
        self.outbox.clear()
        self.movements.clear()
        self.status_changes.clear()
        self.behaviour.clear()

    @property
    def digest(self) -> str | None:
        return self._hash.hexdigest() if self._hash is not None else None


def run(days: int, users: int, products: int, seed: int, digest: bool) -> dict[str, Any]:
    params = HistoryParams(days=days, users=users, products=products, seed=seed, end=END)
    began = time.perf_counter()
    world = build_world(params)
    world_seconds = time.perf_counter() - began
    sink = SerialisingSink(digest)
    simulation = Simulation(world, sink)
    began, cpu = time.perf_counter(), time.process_time()
    counts = simulation.run()
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
    events = sum(counts.events.values())
    generation = seconds - sink.seconds
    figures: dict[str, Any] = {
        "params": {"days": days, "users": users, "products": products, "seed": seed},
        "events": events,
        "sessions": counts.sessions,
        "orders": counts.orders,
        "world_seconds": round(world_seconds, 3),
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds),
        # On a shared machine the CPU time is the steadier figure (wall time waits for others).
        "cpu_seconds": round(cpu_seconds, 2),
        "events_per_cpu_s": round(events / cpu_seconds),
        "generation_seconds": round(generation, 2),
        "serialisation_seconds": round(sink.seconds, 2),
        "generation_share": round(generation / seconds, 3),
        "generation_events_per_s": round(events / generation) if generation else None,
    }
    if digest:
        figures["digest"] = sink.digest
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 days, 400 users, 150 products")
    parser.add_argument("--days", type=int)
    parser.add_argument("--users", type=int)
    parser.add_argument("--products", type=int)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--digest", action="store_true", help="hash everything the sink gets")
    args = parser.parse_args()
    size = dict(QUICK if args.quick else FULL)
    for name in size:
        if getattr(args, name) is not None:
            size[name] = getattr(args, name)
    figures = run(**size, seed=args.seed, digest=args.digest)
    figures["quick"] = args.quick
    figures["load_average"] = os.getloadavg()[0]
    print(
        f"{figures['events']:,} events in {figures['seconds']} s: "
        f"{figures['events_per_s']:,} events/s, {figures['events_per_cpu_s']:,} per CPU second "
        f"(generation {figures['generation_seconds']} s, "
        f"serialisation {figures['serialisation_seconds']} s)"
    )
    path = write_result("simulator", figures)
    # The latest run under a fixed name too, for scripts that compare before and after.
    (RESULTS_DIR / "simulator.json").write_text(path.read_text())


if __name__ == "__main__":
    main()
