"""What every local service has in common: start once, wait for health, stop, report."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import stat
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shoplake.config import Settings
from shoplake.stack.process import (
    StackError,
    pid_alive,
    port_is_open,
    read_pid,
    spawn,
    stop_pid,
    tail,
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str  # running | stopped | unhealthy | external
    port: int
    pid: int | None
    version: str | None
    endpoint: str


class LocalService(ABC):
    """A plain background process with its data, log and pid file under the state dir."""

    name: str
    # Signal that asks the service for a quick, clean shutdown.
    stop_signal: signal.Signals = signal.SIGTERM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # -- what each service defines -------------------------------------------------
    @property
    @abstractmethod
    def port(self) -> int:
        """The port clients use."""

    @property
    def ports(self) -> list[int]:
        """Every port the service binds (all must be free before a start)."""
        return [self.port]

    @property
    @abstractmethod
    def endpoint(self) -> str:
        """How clients reach it (passwords redacted)."""

    @abstractmethod
    def prepare(self) -> None:
        """One-time set-up before the first start (format storage, initdb, unpack)."""

    @abstractmethod
    def command(self) -> tuple[Sequence[str], Mapping[str, str]]:
        """argv and environment of the foreground server process."""

    @abstractmethod
    def healthy(self) -> bool:
        """A real probe: the service answers a request, not merely an open port."""

    @abstractmethod
    def version(self) -> str | None:
        """The server's version as it reports it, or None when it cannot be asked."""

    def after_start(self) -> None:  # noqa: B027 - optional hook, most services need nothing
        """Work that needs the running service (create the database, the role...)."""

    # -- shared behaviour -----------------------------------------------------------
    @property
    def home(self) -> Path:
        return self.settings.state_dir / self.name

    @property
    def log_file(self) -> Path:
        return self.settings.state_dir / "logs" / f"{self.name}.log"

    @property
    def pid_file(self) -> Path:
        return self.settings.state_dir / "run" / f"{self.name}.pid"

    def pid(self) -> int | None:
        return read_pid(self.pid_file)

    def start(self, progress: Progress) -> bool:
        """Start the service unless it already runs; True when this call started it."""
        pid = self.pid()
        if pid is not None:
            progress(f"{self.name}: already running (pid {pid}), checking health")
            self._wait_healthy(pid, progress)
            return False
        busy = [port for port in self.ports if port_is_open(self.settings.bind_host, port)]
        if busy:
            raise StackError(
                f"{self.name}: port {', '.join(map(str, busy))} on {self.settings.bind_host} is "
                f"taken by another process that shoplake did not start. Stop it, or move "
                f"{self.name} with SHOPLAKE_{self.name.upper().replace('-', '_')}_PORT."
            )
        progress(f"{self.name}: preparing")
        self.prepare()
        argv, env = self.command()
        self._mark_log()
        pid = spawn(argv, log_file=self.log_file, pid_file=self.pid_file, env=env, cwd=self.home)
        self._wait_healthy(pid, progress)
        progress(f"{self.name}: finishing set-up")
        self.after_start()
        return True

    def stop(self) -> bool:
        """Stop the service if it runs; True when this call stopped it."""
        pid = self.pid()
        if pid is None:
            return False
        stop_pid(pid, sig=self.stop_signal, timeout=30.0)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self, timeout: float = 30.0) -> int | None:
        """`kill -9` of the service's main process only (fault injection: a crash, not a
        shutdown; Postgres' backends are left to notice their postmaster died). The pid it
        killed, or None when the service was not running."""
        pid = self.pid()
        if pid is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return pid

    def status(self) -> ServiceStatus:
        pid = self.pid()
        if pid is None:
            state, version = "stopped", None
        elif self.healthy():
            state, version = "running", self.version()
        else:
            state, version = "unhealthy", None
        return ServiceStatus(self.name, state, self.port, pid, version, self.endpoint)

    # How many times SHOPLAKE_SERVICE_START_TIMEOUT_S this service may take to become healthy.
    start_timeout_scale: float = 1.0

    @property
    def start_timeout_s(self) -> float:
        return self.settings.service_start_timeout_s * self.start_timeout_scale

    def _wait_healthy(self, pid: int, progress: Progress) -> None:
        started = time.monotonic()
        deadline = started + self.start_timeout_s
        while True:
            if not pid_alive(pid):
                self.pid_file.unlink(missing_ok=True)
                raise StackError(
                    f"{self.name} exited during start. Last lines of {self.log_file}:\n"
                    f"{tail(self.log_file)}"
                )
            if self.healthy():
                return
            if time.monotonic() > deadline:
                raise StackError(
                    f"{self.name} did not become healthy within "
                    f"{self.start_timeout_s:.0f}s (pid {pid} still runs). "
                    f"Last lines of {self.log_file}:\n{tail(self.log_file)}"
                )
            progress(f"{self.name}: waiting for health ({time.monotonic() - started:.0f}s)")
            time.sleep(0.5)

    def _mark_log(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("a") as log:
            log.write(f"\n==== shoplake stack: starting {self.name} at {time.ctime()} ====\n")

    # -- helpers for services that must not run as root ------------------------------
    def as_service_user(self, argv: Sequence[str], owned: Sequence[Path]) -> list[str]:
        """argv run as the unprivileged service user when we are root (Postgres and ES refuse)."""
        if os.geteuid() != 0:
            return list(argv)
        user = self.settings.service_user
        try:
            entry = pwd.getpwnam(user)
        except KeyError as exc:
            raise StackError(
                f"{self.name} refuses to run as root and the service user '{user}' does not "
                f"exist. Run `make setup` (it creates it) or set SHOPLAKE_SERVICE_USER."
            ) from exc
        for path in owned:
            path.mkdir(parents=True, exist_ok=True)
            _chown_tree(path, entry.pw_uid, entry.pw_gid)
            _make_reachable(path)
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            raise StackError("setpriv (util-linux) is needed to drop root for " + self.name)
        return [
            setpriv,
            f"--reuid={entry.pw_uid}",
            f"--regid={entry.pw_gid}",
            "--init-groups",
            *argv,
        ]


def _make_reachable(path: Path) -> None:
    """Let other users traverse (not list) every directory above `path`: a checkout under a
    private folder (`mktemp -d` makes one 0700) would otherwise hide the service's own
    folders from the service user."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    if root.stat().st_uid == uid and all(p.stat().st_uid == uid for p in root.iterdir()):
        return
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, uid, gid)
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def java_executable(settings: Settings) -> Path:
    """The java binary for Kafka and Elasticsearch, or a StackError that says how to get one."""
    candidates: list[Path] = []
    if settings.java_home is not None:
        candidates.append(settings.java_home / "bin" / "java")
    found = shutil.which("java")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise StackError(
        "Java 17 or newer is required for Kafka and Elasticsearch and none was found. "
        "Install a JDK (apt-get install openjdk-17-jre-headless) or set SHOPLAKE_JAVA_HOME."
    )
