"""The API's CPU per answer, the flash sale's figure that a shared machine's load does not
blur: /proc's times of a process and its children (the uvicorn workers)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from benchmarks.flash_sale import _phase
from benchmarks.harness import cpu_seconds
from benchmarks.loadgen import Response

BUSY_CHILD = (
    "import time\n"
    "end = time.process_time() + 0.4\n"
    "while time.process_time() < end: pass\n"
    "time.sleep(30)\n"
)


def test_cpu_seconds_counts_the_living_children_of_a_process() -> None:
    before, own_before = cpu_seconds(os.getpid()), time.process_time()
    child = subprocess.Popen([sys.executable, "-c", BUSY_CHILD])
    try:
        deadline = time.monotonic() + 20
        while cpu_seconds(child.pid) < 0.4 and time.monotonic() < deadline:
            time.sleep(0.05)
        spent = cpu_seconds(os.getpid()) - before
        own = time.process_time() - own_before
    finally:
        child.kill()
        child.wait()
    assert cpu_seconds(child.pid) == 0.0  # gone: nothing to count
    assert spent - own >= 0.35  # the child's busy 0.4 s, at /proc's tick


def test_a_phase_reports_the_servers_cpu_per_answer() -> None:
    answers = [Response(409, b"{}", 0.0, 0.01) for _ in range(4)]
    assert _phase(answers, 1.0, 0.002)["server_cpu_ms_per_request"] == 0.5
    assert "server_cpu_ms_per_request" not in _phase(answers, 1.0)
