"""What every command module shares: the consoles and the way a command fails."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

# Logs (CI, files) get a fixed width wide enough for the tables; terminals use their own.
_WIDTH = None if sys.stdout.isatty() else 140
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print the error for a person and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


# The topics a command over the lake reads (a regex); shared by stream bronze and reconcile.
TopicsOption = Annotated[
    str | None,
    typer.Option("--topics", help="regex of the topics to read (default: every domain topic)"),
]
