"""The `shoplake` command: every layer's command groups under one name.

Each layer owns its commands (`shoplake.commands` for the stack, the schema and the event
contract; `serving.commands`, `streaming.commands`, `spark_jobs.commands`, `demo.commands`);
this module only assembles them, so it is the one place that sees every layer. The command
modules import their heavy dependencies inside each command, so `shoplake --help` stays fast.
"""

from __future__ import annotations

import typer

from dashboards.commands import dashboards
from demo.commands import demo, simulate_app
from models.commands import forecast_app, recs_app
from serving.commands import (
    db_revision,
    fulfilment_app,
    import_app,
    inventory_app,
    orders_app,
    outbox_app,
    serve,
    users_app,
)
from shoplake.commands.events import events_app
from shoplake.commands.sql import sql
from shoplake.commands.stack import db_app, stack_app
from shoplake_cli.consumers import stream_fulfilment
from shoplake_cli.reorder import forecast_reorder
from spark_jobs.commands import gold_app, lake_app, orders_archive, search_app
from streaming.commands import cache_app, stream_app

app = typer.Typer(help="shoplake: a data-first e-commerce platform.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
# The schema belongs to serving's domains, so serving writes new migrations into the kernel's db.
db_app.command("revision")(db_revision)
app.add_typer(db_app, name="db")
app.add_typer(events_app, name="events")
# The fulfilment consumer joins streaming's loop to serving's rules (shoplake_cli/consumers.py).
stream_app.command("fulfilment")(stream_fulfilment)
app.add_typer(stream_app, name="stream")
app.add_typer(lake_app, name="lake")
app.add_typer(gold_app, name="gold")
app.add_typer(search_app, name="search")
app.add_typer(outbox_app, name="outbox")
app.add_typer(users_app, name="users")
app.add_typer(cache_app, name="cache")
app.add_typer(inventory_app, name="inventory")
# The archive job is the batch layer's; users find it with the other order commands.
orders_app.command("archive")(orders_archive)
app.add_typer(orders_app, name="orders")
app.add_typer(recs_app, name="recs")
# Reorder joins the models' suggestions to serving's purchase orders (shoplake_cli/drafts.py).
forecast_app.command("reorder")(forecast_reorder)
app.add_typer(forecast_app, name="forecast")
app.add_typer(fulfilment_app, name="fulfilment")
app.add_typer(import_app, name="import")
app.add_typer(simulate_app, name="simulate")
app.command("serve")(serve)
app.command("demo")(demo)
app.command("sql")(sql)
app.command("dashboards")(dashboards)


if __name__ == "__main__":
    app()
