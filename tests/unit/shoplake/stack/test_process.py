"""Process plumbing of the local stack, exercised on harmless child processes."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest

from shoplake.config import Settings
from shoplake.stack.process import (
    StackError,
    port_is_open,
    read_pid,
    run_checked,
    spawn,
    stop_pid,
    tail,
)
from shoplake.stack.service import java_executable


def test_spawn_writes_pid_and_log_and_stop_ends_the_group(tmp_path: Path) -> None:
    log, pid_file = tmp_path / "logs" / "x.log", tmp_path / "run" / "x.pid"
    pid = spawn(
        [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"],
        log_file=log,
        pid_file=pid_file,
    )
    assert read_pid(pid_file) == pid
    deadline = time.monotonic() + 20
    while "ready" not in tail(log) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "ready" in tail(log)
    stop_pid(pid, timeout=5)
    assert read_pid(pid_file) is None  # the stale pid file is cleaned up
    assert not pid_file.exists()


def test_tail_returns_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("\n".join(f"line {i}" for i in range(100)))
    assert tail(log, 3).splitlines() == ["line 97", "line 98", "line 99"]
    assert "no log" in tail(tmp_path / "missing.log")


def test_port_is_open_sees_a_listener() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert port_is_open("127.0.0.1", port)
    assert not port_is_open("127.0.0.1", port)


def test_run_checked_turns_failure_into_a_stack_error() -> None:
    with pytest.raises(StackError, match=r"probe failed \(exit 3\):\nboom"):
        run_checked([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], what="probe")
    with pytest.raises(StackError, match="not found"):
        run_checked(["/nonexistent/tool"], what="probe")


def test_missing_java_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    settings = Settings(java_home=tmp_path / "no-jdk")
    with pytest.raises(StackError, match="Java 17 or newer is required"):
        java_executable(settings)
