"""Rewrite the README's "Measured so far" table from `benchmarks/results/summary.json`.

    .venv/bin/python -m benchmarks.readme_table [--summary PATH] [--allow-quick]

The table lies between `<!-- measured:start -->` and `<!-- measured:end -->`; everything else in
the README is left as it is. A quick (smoke-size) summary is refused unless `--allow-quick`:
the README quotes full-size runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.report import markdown, replace_block, rows_of

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- measured:start -->", "<!-- measured:end -->"


def render(report: dict[str, Any]) -> str:
    machine = report.get("machine", {})
    load = machine.get("load_average")
    head = (
        f"`python -m benchmarks` ({report.get('size', '?')} size), {report.get('at', '?')}, "
        f"{machine.get('cpus', '?')} CPUs shared, load average {load}; "
        f"goals met {report.get('goals', {}).get('met', 0)}, "
        f"missed {report.get('goals', {}).get('missed', 0)}."
    )
    if machine.get("merged"):
        head += f" Refreshed by `--merge`: {machine['merged']}."
    return f"{head}\n\n{markdown(rows_of(report))}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--summary", type=Path, default=ROOT / "benchmarks/results/summary.json")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--allow-quick", action="store_true")
    args = parser.parse_args()
    report = json.loads(args.summary.read_text())
    if report.get("size") == "quick" and not args.allow_quick:
        raise SystemExit("this summary is of a quick run; pass --allow-quick to use it anyway")
    text = args.readme.read_text()
    args.readme.write_text(replace_block(text, render(report), START, END))
    print(f"{args.readme}: the measured table rewritten from {args.summary}")


if __name__ == "__main__":
    main()
