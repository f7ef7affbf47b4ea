"""Start, stop and report the whole local stack."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from shoplake.config import Settings
from shoplake.stack.dashboards import DashboardsService
from shoplake.stack.elasticsearch import ElasticsearchService
from shoplake.stack.kafka import KafkaService
from shoplake.stack.mailpit import MailpitService
from shoplake.stack.mlflow import MLflowService
from shoplake.stack.postgres import PostgresService
from shoplake.stack.process import StackError, port_is_open
from shoplake.stack.redis import RedisService
from shoplake.stack.sandbox_gateway import SandboxGatewayService
from shoplake.stack.service import LocalService, ServiceStatus
from shoplake.stack.spark_sql import SparkSqlService

SERVICE_TYPES: tuple[type[LocalService], ...] = (
    PostgresService,
    RedisService,
    KafkaService,
    ElasticsearchService,
    SandboxGatewayService,
    MLflowService,
    MailpitService,
    SparkSqlService,
    DashboardsService,
)

# (service name, message) -> None; called from worker threads.
Reporter = Callable[[str, str], None]


@dataclass(frozen=True)
class StartResult:
    name: str
    started: bool  # False: it was already running, or is external
    seconds: float


class Stack:
    """The local services, in start order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.services: dict[str, LocalService] = {cls.name: cls(settings) for cls in SERVICE_TYPES}

    def service(self, name: str) -> LocalService:
        try:
            return self.services[name]
        except KeyError:
            raise StackError(
                f"unknown service '{name}'; choose one of {', '.join(self.services)}"
            ) from None

    def _local(self) -> list[LocalService]:
        return [svc for svc in self.services.values() if self.settings.uses_local(svc.name)]

    def up(self, report: Reporter) -> list[StartResult]:
        """Start every local service that is not running, in parallel, and wait for health."""

        def start(svc: LocalService) -> StartResult:
            began = time.monotonic()
            started = svc.start(lambda msg: report(svc.name, msg))
            report(svc.name, f"{svc.name}: healthy")
            return StartResult(svc.name, started, time.monotonic() - began)

        local = self._local()
        with ThreadPoolExecutor(max_workers=max(1, len(local))) as pool:
            futures = [pool.submit(start, svc) for svc in local]
            errors: list[str] = []
            results: list[StartResult] = []
            for future in futures:
                try:
                    results.append(future.result())
                except StackError as exc:
                    errors.append(str(exc))
        if errors:
            raise StackError("\n\n".join(errors))
        return results

    def down(self) -> list[str]:
        """Stop every local service, JVMs first; the names of those that were running."""
        stopped = []
        for svc in reversed(self._local()):
            if svc.stop():
                stopped.append(svc.name)
        return stopped

    def status(self) -> list[ServiceStatus]:
        rows = []
        for svc in self.services.values():
            if self.settings.uses_local(svc.name):
                rows.append(svc.status())
            else:
                state = "external" if svc.healthy() else "unreachable"
                rows.append(
                    ServiceStatus(svc.name, state, svc.port, None, svc.version(), svc.endpoint)
                )
        return rows

    def ports_in_use(self) -> list[int]:
        """Local ports of the stack that still accept connections."""
        return [
            port
            for svc in self._local()
            for port in svc.ports
            if port_is_open(self.settings.bind_host, port)
        ]
