"""The sandbox payment gateway, run by uvicorn as one more local service."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

import httpx

from shoplake.config import child_env
from shoplake.stack.service import LocalService


class SandboxGatewayService(LocalService):
    name = "sandbox-gateway"

    @property
    def port(self) -> int:
        return self.settings.sandbox_gateway_port

    @property
    def endpoint(self) -> str:
        return self.settings.sandbox_gateway_endpoint

    def prepare(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)

    def command(self) -> tuple[Sequence[str], Mapping[str, str]]:
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "sandbox.payment_gateway:create_app",
            "--host",
            self.settings.bind_host,
            "--port",
            str(self.port),
            "--workers",
            "1",  # one process: the event loop is what makes one key one charge
            "--no-access-log",
            # tok_timeout requests hang on purpose: do not wait for them on the way down.
            "--timeout-graceful-shutdown",
            "1",
        ]
        return argv, child_env(state_dir=self.settings.state_dir)

    def _health(self) -> dict[str, str] | None:
        try:
            response = httpx.get(f"{self.endpoint}/health", timeout=1.0)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        body: dict[str, str] = response.json()
        return body

    def healthy(self) -> bool:
        body = self._health()
        return body is not None and body.get("status") == "ok"

    def version(self) -> str | None:
        body = self._health()
        return None if body is None else body.get("version")
