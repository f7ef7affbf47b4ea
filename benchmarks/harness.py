"""What every benchmark shares: a real API server process, timing, percentiles, JSON results."""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from shoplake.config import child_env
from shoplake.stack.process import free_port, process_tree

RESULTS_DIR = Path(__file__).parent / "results"


@contextmanager
def api_server(workers: int = 1, relay: bool = False) -> Iterator[str]:
    """`shoplake serve` in a child process on a free port; yields its base URL."""
    with api_process(workers, relay) as (base, _proc):
        yield base


# Benchmarks that measure the API, not the rate limiter's refusals, lift every limit.
GENEROUS_LIMITS: dict[str, object] = {
    "rate_limit_auth_per_minute": 10**6,
    "rate_limit_write_per_minute": 10**6,
    "rate_limit_checkout_per_minute": 10**6,
    "rate_limit_cart_per_minute": 10**6,
    "rate_limit_behaviour_per_minute": 10**6,
    "rate_limit_login_account_per_minute": 10**6,
    "rate_limit_register_per_minute": 10**6,
    "login_lockout_failures": 10**6,
}


@contextmanager
def api_process(
    workers: int = 1, relay: bool = False, *, generous_limits: bool = True, **overrides: object
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`shoplake serve` in a child process on a free port, with settings `overrides`; yields
    its base URL and the process (the uvicorn supervisor when `workers` > 1). Without
    `generous_limits` the production rate limits stand."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "shoplake_cli.main",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--relay" if relay else "--no-relay",
    ]
    settings: dict[str, object] = {
        **(GENEROUS_LIMITS if generous_limits else {}),
        # The shared stack's outbox has rows no relay sends: readiness on the stores only.
        "readiness_gates": '["postgres","redis"]',
        "log_level": "WARNING",
        **overrides,
    }
    env = child_env(**settings)
    proc = subprocess.Popen(argv, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        # Generous: on a shared 2-core machine two workers' start-up can take a minute.
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API server did not become ready")
            time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextmanager
def profiled(pid: int, out: Path | None, rate: int = 200) -> Iterator[None]:
    """py-spy samples process `pid` and its children (the uvicorn workers) while the block
    runs, into `out` as collapsed stacks (`--format raw`: one line per stack and its count,
    what flame graphs are drawn from); nothing when `out` is None."""
    if out is None:
        yield
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    argv = [str(spy), "record", "--pid", str(pid), "--subprocesses", "--format", "raw"]
    argv += ["--rate", str(rate), "--nonblocking", "--output", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) spent so far by process `pid` and its living descendants (the
    uvicorn workers), from /proc: what a phase cost the server, whatever else shares the cores.
    Linux only; 0.0 elsewhere."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    for current in process_tree(pid):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile, or no /proc
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def percentiles(samples_s: list[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds."""
    if not samples_s:
        return {}
    ordered = sorted(samples_s)
    q = (
        statistics.quantiles(ordered, n=100, method="inclusive")
        if len(ordered) > 1
        else ordered * 99
    )
    return {
        "p50_ms": round(q[49] * 1000, 2),
        "p95_ms": round(q[94] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "count": len(ordered),
    }


def write_result(name: str, figures: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    payload = {
        "benchmark": name,
        "at": stamp,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **figures,
    }
    path.write_text(json.dumps(payload, indent=2))
    print(json.dumps(payload, indent=2))
    print(f"written to {path}")
    return path
