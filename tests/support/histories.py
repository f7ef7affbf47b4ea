"""Small planted histories for the models' tests, written into a lake root of their own."""

from __future__ import annotations

from pathlib import Path

from demo.planted_history import HistorySpec, PlantedHistory, generate

SMALL = HistorySpec(users=300, products=60, categories=6, segments=3, days=84, seed=11)


def planted_lake(root: Path, spec: HistorySpec = SMALL) -> tuple[str, PlantedHistory]:
    history = generate(spec)
    history.write(str(root))
    return str(root), history
