"""The `shoplake` command: local stack, database, event contract, demo and pipeline steps.

This module is the composition root: it alone in `shoplake` reaches into the other packages,
and only inside a command, so `import shoplake` stays free of Spark and FastAPI.
"""

from __future__ import annotations

import typer

from shoplake.commands.common import console, fail
from shoplake.commands.events import events_app
from shoplake.commands.lake import lake_app, stream_app
from shoplake.commands.serving import cache_app, outbox_app, serve, users_app
from shoplake.commands.stack import db_app, stack_app
from shoplake.config import get_settings
from shoplake.stack import StackError

app = typer.Typer(help="shoplake: a data-first e-commerce platform.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(db_app, name="db")
app.add_typer(events_app, name="events")
app.add_typer(stream_app, name="stream")
app.add_typer(lake_app, name="lake")
app.add_typer(outbox_app, name="outbox")
app.add_typer(users_app, name="users")
app.add_typer(cache_app, name="cache")
app.command("serve")(serve)


@app.command("demo")
def demo() -> None:
    """The main job: a timed round trip through every real component of the stack."""
    from streaming.roundtrip import run_round_trip

    try:
        run_round_trip(get_settings(), console)
    except StackError as exc:
        raise fail(str(exc)) from None


if __name__ == "__main__":
    app()
