"""`python -m benchmarks` end to end on the real stack, at smoke size, on its cheapest
benchmark: the progress lines, the table and a summary.json that holds the baselines' rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_runner_runs_one_benchmark_and_writes_its_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    argv = [sys.executable, "-m", "benchmarks", "--quick", "--only", "baselines"]
    done = subprocess.run(
        [*argv, "--summary", str(summary)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[1/1] baselines (quick)" in done.stderr
    assert "in-run baseline" in done.stdout and "Redis GET" in done.stdout
    report = json.loads(summary.read_text())
    assert report["size"] == "quick"
    assert report["runs"] == [
        {
            "benchmark": "baselines",
            "ok": True,
            "seconds": report["runs"][0]["seconds"],
            "error": "",
            "result_file": report["runs"][0]["result_file"],
        }
    ]
    figures = {row["figure"]: row["value"] for row in report["rows"]}
    assert figures["Redis GET, one client"] > 0
    assert figures["Postgres reservation-shaped tx, hot row"] > 0
    assert figures["Elasticsearch match query"] > 0
