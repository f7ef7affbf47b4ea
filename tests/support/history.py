"""A simulated history kept in memory: the events, movements and status changes a simulation
sends to its sink, for the tests of the simulator's rules and planted structure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from demo.history.simulate import Simulation
from demo.history.world import HistoryParams, build_world
from shoplake.events import CloudEvent

END = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@dataclass
class MemorySink:
    events: list[CloudEvent] = field(default_factory=list)
    outbox: list[CloudEvent] = field(default_factory=list)
    movements: list[dict[str, Any]] = field(default_factory=list)
    status_changes: list[dict[str, Any]] = field(default_factory=list)
    days: list[date] = field(default_factory=list)

    def event(self, event: CloudEvent, *, outbox: bool) -> None:
        self.events.append(event)
        if outbox:
            self.outbox.append(event)

    def movement(self, row: dict[str, Any]) -> None:
        self.movements.append(row)

    def status_change(self, row: dict[str, Any]) -> None:
        self.status_changes.append(row)

    def day_done(self, day: date, days_total: int) -> None:
        self.days.append(day)

    def of(self, fact: str) -> list[CloudEvent]:
        return [e for e in self.events if e.type.split(".")[2] == fact]

    def digest(self) -> str:
        """One hash of every event, in order: equal digests, equal histories."""
        hashed = hashlib.sha256()
        for event in self.events:
            hashed.update(event.to_json())
        return hashed.hexdigest()


def simulate(
    days: int = 14,
    users: int = 200,
    products: int = 80,
    seed: int = 3,
    *,
    end: datetime = END,
    extend_to: datetime | None = None,
    emit_from: datetime | None = None,
) -> tuple[Simulation, MemorySink]:
    params = HistoryParams(days=days, users=users, products=products, seed=seed, end=end)
    sink = MemorySink()
    simulation = Simulation(build_world(params), sink, end=extend_to, emit_from=emit_from)
    simulation.run()
    return simulation, sink
