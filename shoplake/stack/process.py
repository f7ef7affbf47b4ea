"""Background processes with pid files and logs: the plumbing under every local service."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


class StackError(RuntimeError):
    """A service could not be started or stopped; the message says why and what to do."""


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS has just reported free on host (for servers started by tests and tools)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes; /proc tells it apart from a live process.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def children(pid: int) -> list[int]:
    """The pids `pid` started that still run, from every one of its threads (Linux /proc);
    none when it is gone."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            found += [int(child) for child in task.read_text().split()]
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and all its living descendants, parents before their children."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop(0)
        if current not in tree:
            tree.append(current)
            pending += children(current)
    return tree


def read_pid(pid_file: Path) -> int | None:
    """The pid in the file if that process still runs, else None (and the stale file goes)."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if pid_alive(pid):
        return pid
    pid_file.unlink(missing_ok=True)
    return None


def spawn(
    argv: Sequence[str],
    *,
    log_file: Path,
    pid_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start argv detached from this process (own session), output appended to log_file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def stop_pid(pid: int, *, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> None:
    """Signal the process group, then SIGKILL it if it has not gone after timeout seconds."""
    for signum, wait in ((sig, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, signum)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                _reap(pid)
                return
            time.sleep(0.1)
    raise StackError(f"process {pid} did not stop after SIGKILL")


def _reap(pid: int) -> None:
    """Collect the exit status of a child we started, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, or a note that there is none."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def run_checked(argv: Sequence[str], *, what: str, env: Mapping[str, str] | None = None) -> str:
    """Run a short command to completion; a failure becomes a StackError with its output."""
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            env=dict(env) if env is not None else None,
            timeout=300,
            check=False,
        )
    except FileNotFoundError as exc:
        raise StackError(f"{what}: {argv[0]} not found ({exc})") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-3000:]
        raise StackError(f"{what} failed (exit {done.returncode}):\n{output}")
    return done.stdout
