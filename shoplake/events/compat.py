"""JSON Schemas of the event types: export them, and find changes that would break old readers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shoplake.events.base import REGISTRY, EventData

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS_DIR = Path(__file__).parent / "schemas"
# Keys that document a field without changing what a reader accepts.
_COSMETIC = {"title", "description", "default", "examples"}


def schema_of(model: type[EventData]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": model.schema_id(),
        **schema,
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def export_schemas(target: Path = SCHEMAS_DIR) -> list[Path]:
    """Write one `<event type>.json` per registered event type; returns the files written."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type, model in sorted(REGISTRY.items()):
        path = target / f"{event_type}.json"
        path.write_text(render(schema_of(model)))
        written.append(path)
    return written


def _normalise(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _normalise(v) for k, v in sorted(node.items()) if k not in _COSMETIC}
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    return node


def _resolve(schema: dict[str, Any], node: Any) -> Any:
    """Inline local `$ref`s so that a renamed definition is not mistaken for a retyped field."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _resolve(schema, schema.get("$defs", {}).get(ref.split("/")[-1], {}))
        return {k: _resolve(schema, v) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(schema, v) for v in node]
    return node


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in `new` breaks a reader of `old`: a removed, retyped or newly required field."""
    problems = []
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for name, old_field in sorted(old_props.items()):
        if name not in new_props:
            problems.append(f"field '{name}' was removed")
        elif _normalise(_resolve(old, old_field)) != _normalise(_resolve(new, new_props[name])):
            problems.append(f"field '{name}' changed type")
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    problems.extend(f"field '{name}' became required" for name in sorted(newly_required))
    return problems
