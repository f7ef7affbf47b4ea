"""`shoplake dashboards`: the analysts' dashboards in the foreground (Ctrl-C stops them)."""

from __future__ import annotations

import contextlib
import subprocess

import typer

from shoplake.commands.common import console
from shoplake.config import get_settings


def dashboards(
    port: int | None = typer.Option(None, help="default: SHOPLAKE_DASHBOARDS_PORT"),
) -> None:
    """Serve the dashboards (Streamlit) on the stack's host; usage statistics off."""
    from shoplake.stack.dashboards import streamlit_command, streamlit_env

    settings = get_settings()
    console.print(
        f"dashboards on http://{settings.bind_host}:{port or settings.dashboards_port}",
        highlight=False,
    )
    with contextlib.suppress(KeyboardInterrupt):
        subprocess.run(streamlit_command(settings, port), env=streamlit_env(settings), check=False)
