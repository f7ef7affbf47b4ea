"""The analysts' dashboards (Streamlit, `dashboards/app.py`) as a local service of the stack.

The app is found by its package (`importlib.util.find_spec`, no import: the kernel imports no
layer above it, as with the sandbox gateway). Usage statistics are off, so the browser never
calls Streamlit's servers; the server binds the stack's host only.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from shoplake.config import Settings, child_env
from shoplake.stack.process import StackError
from shoplake.stack.service import LocalService


def app_path() -> Path:
    spec = importlib.util.find_spec("dashboards")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("the dashboards package is not installed: run `make setup`")
    return Path(next(iter(spec.submodule_search_locations))) / "app.py"


def streamlit_command(settings: Settings, port: int | None = None) -> list[str]:
    """`streamlit run` of the dashboards, quiet and local."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path()),
        "--server.port",
        str(port or settings.dashboards_port),
        "--server.address",
        settings.bind_host,
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def streamlit_env(settings: Settings) -> dict[str, str]:
    return child_env(lake_root=settings.lake_path, gold_dir=settings.gold_path)


class DashboardsService(LocalService):
    name = "dashboards"

    @property
    def port(self) -> int:
        return self.settings.dashboards_port

    @property
    def endpoint(self) -> str:
        return self.settings.dashboards_endpoint

    def prepare(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)

    def command(self) -> tuple[Sequence[str], Mapping[str, str]]:
        return streamlit_command(self.settings), streamlit_env(self.settings)

    def healthy(self) -> bool:
        try:
            response = httpx.get(f"{self.endpoint}/_stcore/health", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and response.text.strip() == "ok"

    def version(self) -> str | None:
        try:
            return importlib.metadata.version("streamlit")
        except importlib.metadata.PackageNotFoundError:
            return None
