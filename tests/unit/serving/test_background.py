"""The periodic task: runs on its interval, survives a failing run, stops when asked."""

from __future__ import annotations

import time

from serving.background import PeriodicTask


def test_runs_repeatedly_survives_errors_and_stops() -> None:
    calls: list[int] = []

    def work() -> None:
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("one bad run")

    task = PeriodicTask("test", 0.01, work)
    task.start()
    deadline = time.monotonic() + 10
    while len(calls) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    task.stop()
    stopped_at = len(calls)
    time.sleep(0.05)
    assert stopped_at >= 5  # the failure on the second run did not end the loop
    assert len(calls) == stopped_at
    assert task.runs >= 5
