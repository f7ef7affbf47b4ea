"""Mailpit: the stack's SMTP server, where the notifications' e-mail lands (with an HTTP API).

Built from source by `make mailpit` (`go install`, into `<state>/bin`), like stripe-mock. It
keeps every message (`--max 0`; the default prunes to 500 every minute), never calls home
(`--disable-version-check`: otherwise /api/v1/info asks GitHub for releases) nor does a
reverse-DNS lookup per connection, and drops a second message with a Message-ID it already
holds (`--ignore-duplicate-ids`): a retry after an unanswered SMTP DATA re-sends the same id,
so such a retry never makes a second copy. `--enable-chaos` lets tests make it answer SMTP
errors on purpose (PUT /api/v1/chaos); off until asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from shoplake.config import child_env
from shoplake.stack.process import StackError
from shoplake.stack.service import LocalService


class MailpitService(LocalService):
    name = "mailpit"

    @property
    def port(self) -> int:
        return self.settings.mailpit_port

    @property
    def ports(self) -> list[int]:
        return [self.settings.mailpit_port, self.settings.mailpit_http_port]

    @property
    def endpoint(self) -> str:
        host, port = self.settings.smtp_endpoint
        return f"smtp://{host}:{port} · {self.settings.mailpit_endpoint}"

    @property
    def binary(self) -> Path:
        return self.settings.state_dir / "bin" / "mailpit"

    def prepare(self) -> None:
        if not self.binary.exists():
            raise StackError(
                f"mailpit is not built ({self.binary} is missing): run `make mailpit` "
                "(Go >= 1.26 and the Go module proxy)"
            )
        self.home.mkdir(parents=True, exist_ok=True)

    def command(self) -> tuple[Sequence[str], Mapping[str, str]]:
        host = self.settings.bind_host
        argv = [
            str(self.binary),
            "--smtp",
            f"{host}:{self.settings.mailpit_port}",
            "--listen",
            f"{host}:{self.settings.mailpit_http_port}",
            "--database",
            str(self.home / "mailpit.db"),
            "--max",
            "0",
            "--disable-version-check",
            "--smtp-disable-rdns",
            "--ignore-duplicate-ids",
            "--enable-chaos",
            # Clients configured for a relay that needs AUTH work against it too; AUTH without
            # TLS is refused at start unless allowed (loopback only, a sandbox).
            "--smtp-auth-accept-any",
            "--smtp-auth-allow-insecure",
            "--quiet",
        ]
        return argv, child_env(state_dir=self.settings.state_dir)

    def healthy(self) -> bool:
        try:
            response = httpx.get(f"{self.settings.mailpit_endpoint}/readyz", timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def version(self) -> str | None:
        try:
            response = httpx.get(f"{self.settings.mailpit_endpoint}/api/v1/info", timeout=1.0)
            info: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        version = info.get("Version")
        return str(version) if version else None
