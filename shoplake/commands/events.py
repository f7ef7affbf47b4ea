"""`shoplake events`: the event contract's JSON Schemas."""

from __future__ import annotations

import typer

from shoplake.commands.common import console

events_app = typer.Typer(help="The event contract.")


@events_app.command("export-schemas")
def export_schemas() -> None:
    """Write the JSON Schema of every event type to shoplake/events/schemas/."""
    from shoplake.events.compat import SCHEMAS_DIR, export_schemas

    written = export_schemas()
    console.print(f"wrote {len(written)} schemas to {SCHEMAS_DIR}")


@events_app.command("list")
def list_types() -> None:
    """Every event type with its topic and key field."""
    from shoplake.events import REGISTRY

    for event_type, model in sorted(REGISTRY.items()):
        console.print(
            f"{event_type:48} {model.topic():22} key={model.key_field}",
            highlight=False,
            soft_wrap=True,
        )
