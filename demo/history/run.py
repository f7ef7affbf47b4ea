"""Simulate a shopper history into the stack, or extend one by more days: the entry points of
`shoplake simulate history`, the demo, the tests and the benchmarks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from demo.history.simulate import Counts, Simulation
from demo.history.world import HistoryParams, build_world
from demo.history.writer import PostgresKafkaSink, ground_truth_json
from demo.loadgen import domain_topics
from serving.outbox import OutboxRelay, drain
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.kafka import ensure_topics

DayProgress = Callable[[date, int], None]  # (day done, days in the run)
RelayProgress = Callable[[int, int], None]  # (published so far, to publish)


class HistoryError(RuntimeError):
    """A history that cannot be written as asked (already there, or not there to extend)."""


@dataclass(frozen=True)
class HistoryRun:
    params: HistoryParams
    window: tuple[datetime, datetime]  # what this run wrote: [from, to)
    counts: Counts
    simulate_seconds: float
    relay_seconds: float
    outbox_rows: int
    behaviour_events: int
    rows: dict[str, int] = field(default_factory=dict)
    directory: Path | None = None

    @property
    def events(self) -> int:
        return self.outbox_rows + self.behaviour_events

    @property
    def events_per_second(self) -> float:
        return self.events / self.simulate_seconds if self.simulate_seconds else 0.0


def history_dir(settings: Settings, seed: int, lake_root: str | None = None) -> Path:
    """Where a history's manifest and ground truth live: next to the lake it fed."""
    return Path(lake_root or settings.lake_path) / "_history" / f"h{seed}"


def _exists(conn: sa.Connection, params: HistoryParams) -> bool:
    probe = sa.text("select 1 from users where email like :pattern limit 1")
    return (
        conn.execute(probe, {"pattern": f"{params.prefix.lower()}-%@history.%"}).first() is not None
    )


def simulate_history(
    settings: Settings,
    params: HistoryParams,
    *,
    namespace: str | None = None,
    lake_root: str | None = None,
    on_day: DayProgress | None = None,
    on_relay: RelayProgress | None = None,
) -> HistoryRun:
    """Write a new history: refused when one with this seed is in the database already."""
    return _write(settings, params, None, namespace, lake_root, on_day, on_relay)


def extend_history(
    settings: Settings,
    seed: int,
    days: float,
    *,
    namespace: str | None = None,
    lake_root: str | None = None,
    on_day: DayProgress | None = None,
    on_relay: RelayProgress | None = None,
) -> HistoryRun:
    """Write `days` more days of the history with this seed, up to now at the latest."""
    manifest = history_dir(settings, seed, lake_root) / "manifest.json"
    if not manifest.exists():
        raise HistoryError(f"no history with seed {seed} to extend ({manifest} is missing)")
    written = json.loads(manifest.read_text())
    params = HistoryParams.from_dict(written["params"])
    since = datetime.fromisoformat(written["written_until"])
    until = min(since + timedelta(days=days), datetime.now(UTC).replace(microsecond=0))
    if until <= since:
        raise HistoryError(f"the history with seed {seed} already reaches {since:%Y-%m-%d %H:%M}")
    return _write(settings, params, (since, until), namespace, lake_root, on_day, on_relay)


def _write(
    settings: Settings,
    params: HistoryParams,
    extension: tuple[datetime, datetime] | None,
    namespace: str | None,
    lake_root: str | None,
    on_day: DayProgress | None,
    on_relay: RelayProgress | None,
) -> HistoryRun:
    topics = domain_topics(namespace)
    ensure_topics(settings, topics.values())
    world = build_world(params)
    since, until = extension or (None, params.end)
    engine = make_engine(settings, pool_size=2)
    began = time.perf_counter()
    try:
        with engine.begin() as conn:
            if extension is None and _exists(conn, params):
                raise HistoryError(
                    f"a history with seed {params.seed} is in this database already: extend it "
                    f"(--extend-days) or choose another --seed"
                )
            driver = conn.connection.driver_connection
            assert driver is not None
            sink = PostgresKafkaSink(driver, settings, topics)
            simulation = Simulation(world, sink, end=until, emit_from=since)
            total = (until.date() - (since or params.start).date()).days + 1
            simulation.run(
                on_day=None
                if on_day is None
                else lambda day: (
                    on_day(day, total) if since is None or day >= since.date() else None
                )
            )
            simulate_seconds = time.perf_counter() - began
            rows = sink.write_entities(simulation, since)
            sink.flush_kafka()
        relay_began = time.perf_counter()
        relay_settings = settings.model_copy(update={"outbox_relay_batch": 5000})
        relay = OutboxRelay(relay_settings, engine)
        to_send = relay.pending()
        sent = 0
        while True:
            batch = relay.run_once()
            sent += batch
            if on_relay is not None:
                on_relay(sent, to_send)
            if batch == 0 and relay.pending() == 0:
                break
        drain(relay, timeout_s=30)
        relay_seconds = time.perf_counter() - relay_began
    finally:
        engine.dispose()
    directory = history_dir(settings, params.seed, lake_root)
    directory.mkdir(parents=True, exist_ok=True)
    truth = world.ground_truth()
    truth["observed"] = _observed(simulation.counts)
    (directory / "ground_truth.json").write_text(ground_truth_json(truth))
    manifest = {
        "params": params.as_dict(),
        "namespace": namespace,
        "written_until": until.isoformat(),
        "windows": _windows(directory, since or params.start - timedelta(days=150), until),
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return HistoryRun(
        params=params,
        window=(since or params.start, until),
        counts=simulation.counts,
        simulate_seconds=simulate_seconds,
        relay_seconds=relay_seconds,
        outbox_rows=sink.outbox_rows,
        behaviour_events=sink.behaviour_events,
        rows=rows,
        directory=directory,
    )


def _windows(directory: Path, since: datetime, until: datetime) -> list[list[str]]:
    manifest = directory / "manifest.json"
    before: list[list[str]] = (
        json.loads(manifest.read_text()).get("windows", []) if manifest.exists() else []
    )
    return [*before, [since.isoformat(), until.isoformat()]]


def _observed(counts: Counts) -> dict[str, Any]:
    return {
        "sessions": counts.sessions,
        "anonymous_sessions": counts.anonymous_sessions,
        "orders": counts.orders,
        "abandoned_carts": counts.abandoned_checkouts,
        "events": dict(sorted(counts.events.items())),
        "lost_demand_units": dict(sorted(counts.lost_demand.items())),
        "stockout_days": dict(sorted(counts.stockout_days.items())),
    }


def simulate_or_extend(settings: Settings, params: HistoryParams) -> tuple[HistoryRun, str]:
    """`params`' history written into the stack, or, when it is there already (a second run),
    brought up to now; with the verb that says which."""
    if (history_dir(settings, params.seed) / "manifest.json").exists():
        return extend_history(settings, params.seed, days=params.days), "extended"
    return simulate_history(settings, params), "simulated"
