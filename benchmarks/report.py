"""The benchmark report: rows of (figure, in-run baseline, ratio, goal, verdict), the table the
runner prints, `summary.json`, and the README's "Measured so far" table. Pure: no services.

A goal judges either the figure itself or its ratio to the in-run baseline (`on`): on a shared
machine the ratio is the figure that travels between runs, the absolute one is what a shopper
meets.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": lambda a, b: math.isclose(a, b),
}


class Verdict(StrEnum):
    MET = "met"
    MISSED = "missed"
    NO_GOAL = "—"
    NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Goal:
    op: Literal[">=", ">", "<=", "<", "=="]
    target: float
    on: Literal["value", "ratio"] = "value"

    def met(self, value: float) -> bool:
        return _OPS[self.op](value, self.target)

    def __str__(self) -> str:
        subject = "ratio " if self.on == "ratio" else ""
        return f"{subject}{self.op} {_number(self.target)}"


@dataclass(frozen=True)
class Row:
    benchmark: str
    figure: str
    value: float | None
    unit: str = ""
    baseline: float | None = None
    baseline_name: str = ""
    goal: Goal | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def verdict(self) -> Verdict:
        if self.goal is None:
            return Verdict.NO_GOAL if self.value is not None else Verdict.NOT_MEASURED
        judged = self.ratio if self.goal.on == "ratio" else self.value
        if judged is None:
            return Verdict.NOT_MEASURED
        return Verdict.MET if self.goal.met(judged) else Verdict.MISSED

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["goal"] = str(self.goal) if self.goal else None
        out["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        out["verdict"] = self.verdict.value
        return out


@dataclass
class Run:
    """One benchmark's run: how it went and the rows it gave."""

    benchmark: str
    ok: bool
    seconds: float
    rows: list[Row] = field(default_factory=list)
    error: str = ""
    result_file: str = ""


def _number(x: float | None) -> str:
    if x is None:
        return "—"
    if float(x).is_integer() or abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def cells(row: Row) -> list[str]:
    value = _number(row.value) + (f" {row.unit}" if row.unit and row.value is not None else "")
    baseline = f"{_number(row.baseline)} ({row.baseline_name})" if row.baseline is not None else "—"
    ratio = "—" if row.ratio is None else f"{row.ratio:.2f}"
    return [
        row.benchmark,
        row.figure,
        value,
        baseline,
        ratio,
        str(row.goal) if row.goal else "—",
        row.verdict.value,
    ]


HEADER = ["benchmark", "figure", "value", "in-run baseline", "ratio", "goal", "verdict"]


def table(rows: Sequence[Row]) -> str:
    """A fixed-width table for the terminal."""
    grid = [HEADER, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in grid) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in grid]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(rows: Sequence[Row]) -> str:
    """The same table as Markdown, for the README."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def summary(
    runs: Iterable[Run], *, size: str, machine: Mapping[str, Any], at: str
) -> dict[str, Any]:
    runs = list(runs)
    rows = [row for run in runs for row in run.rows]
    verdicts = [row.verdict for row in rows]
    return {
        "at": at,
        "size": size,
        "machine": dict(machine),
        "runs": [
            {
                "benchmark": r.benchmark,
                "ok": r.ok,
                "seconds": round(r.seconds, 1),
                "error": r.error,
                "result_file": r.result_file,
            }
            for r in runs
        ],
        "rows": [row.as_dict() for row in rows],
        "goals": {
            "met": verdicts.count(Verdict.MET),
            "missed": verdicts.count(Verdict.MISSED),
            "not_measured": verdicts.count(Verdict.NOT_MEASURED),
        },
    }


def kept_runs(previous: Mapping[str, Any], fresh: Iterable[Run]) -> list[Run]:
    """The runs of an earlier summary for the benchmarks not run again (`--merge`), with their
    rows, so refreshing a few benchmarks keeps the others' figures."""
    again = {run.benchmark for run in fresh}
    rows = rows_of(previous)
    return [
        Run(
            raw["benchmark"],
            bool(raw.get("ok")),
            float(raw.get("seconds", 0.0)),
            [row for row in rows if row.benchmark == raw["benchmark"]],
            raw.get("error", ""),
            raw.get("result_file", ""),
        )
        for raw in previous.get("runs", [])
        if raw["benchmark"] not in again
    ]


def rows_of(summary_json: Mapping[str, Any]) -> list[Row]:
    """The rows back from a summary (what the README's table is regenerated from)."""
    out = []
    for raw in summary_json.get("rows", []):
        goal = _parse_goal(raw.get("goal"))
        out.append(
            Row(
                benchmark=raw["benchmark"],
                figure=raw["figure"],
                value=raw.get("value"),
                unit=raw.get("unit", ""),
                baseline=raw.get("baseline"),
                baseline_name=raw.get("baseline_name", ""),
                goal=goal,
                note=raw.get("note", ""),
            )
        )
    return out


def _parse_goal(text: str | None) -> Goal | None:
    if not text:
        return None
    words = text.split()
    on: Literal["value", "ratio"] = "value"
    if words[0] == "ratio":
        on, words = "ratio", words[1:]
    op, target = words
    if op not in _OPS:
        raise ValueError(f"unknown goal operator {op!r}")
    return Goal(op, float(target.replace(",", "")), on)  # type: ignore[arg-type]


def replace_block(text: str, block: str, start: str, end: str) -> str:
    """`text` with what lies between the `start` and `end` markers replaced by `block`."""
    if start not in text or end not in text:
        raise ValueError(f"the markers {start!r} and {end!r} are not both in the text")
    head, rest = text.split(start, 1)
    _old, tail = rest.split(end, 1)
    return f"{head}{start}\n{block}\n{end}{tail}"
