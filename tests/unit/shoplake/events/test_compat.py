"""Exported JSON Schemas: up to date, and no model change breaks a reader of the old one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shoplake.events import REGISTRY, CloudEvent, EventData, parse_data
from shoplake.events.base import UnknownEventType
from shoplake.events.compat import SCHEMAS_DIR, breaking_changes, export_schemas, render, schema_of

COMMITTED = {path.stem: json.loads(path.read_text()) for path in SCHEMAS_DIR.glob("*.json")}


def test_every_event_type_has_a_committed_schema() -> None:
    missing = sorted(set(REGISTRY) - set(COMMITTED))
    assert not missing, f"run `shoplake events export-schemas` and commit: {missing}"


@pytest.mark.parametrize("event_type", sorted(COMMITTED))
def test_models_stay_compatible_with_their_committed_schema(event_type: str) -> None:
    assert event_type in REGISTRY, f"{event_type} was removed: old readers still expect it"
    problems = breaking_changes(COMMITTED[event_type], schema_of(REGISTRY[event_type]))
    assert not problems, f"{event_type}: {problems}; publish a new version (.v2) instead"


def test_committed_schemas_match_the_models(tmp_path: Path) -> None:
    export_schemas(tmp_path)
    stale = [
        path.name
        for path in tmp_path.glob("*.json")
        if path.read_text() != render(COMMITTED.get(path.stem, {}))
    ]
    assert not stale, (
        f"compatible change not exported: run `shoplake events export-schemas`: {stale}"
    )


OLD_PROPERTIES: dict[str, dict[str, object]] = {
    "sku": {"type": "string", "title": "Sku"},
    "qty": {"type": "integer"},
    "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
}
OLD: dict[str, object] = {"properties": OLD_PROPERTIES, "required": ["sku", "qty"]}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"properties": {"sku": {"type": "string"}, "note": OLD_PROPERTIES["note"]}},
            "'qty' was removed",
        ),
        ({"properties": {**OLD_PROPERTIES, "qty": {"type": "string"}}}, "'qty' changed type"),
        (
            {
                "properties": {**OLD_PROPERTIES, "extra": {"type": "string"}},
                "required": ["sku", "qty", "extra"],
            },
            "'extra' became required",
        ),
    ],
)
def test_breaking_changes_are_named(change: dict[str, object], expected: str) -> None:
    new = {"required": OLD["required"], **change}
    assert any(expected in problem for problem in breaking_changes(OLD, new))


def test_optional_additions_and_cosmetic_edits_are_compatible() -> None:
    new = {
        "properties": {
            **OLD_PROPERTIES,
            "sku": {"type": "string", "title": "SKU", "description": "stock keeping unit"},
            "colour": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
        "required": ["sku", "qty"],
    }
    assert breaking_changes(OLD, new) == []


def test_every_model_builds_an_envelope_that_parses_back() -> None:
    from shoplake.events.catalog import PriceChanged

    data = PriceChanged(
        sku="SKU-1", version=3, old_price_cents=1000, new_price_cents=900, currency="EUR"
    )
    event = data.to_event("/serving/catalog")
    assert event.type == "shop.catalog.PriceChanged.v1"
    assert event.subject == "SKU-1"
    assert event.dataschema and event.dataschema.endswith("shop.catalog.PriceChanged.v1.json")
    assert parse_data(CloudEvent.from_json(event.to_json())) == data
    assert all(issubclass(model, EventData) for model in REGISTRY.values())


def test_an_unknown_type_is_refused() -> None:
    event = CloudEvent(source="/x", type="shop.catalog.ProductTeleported.v1", subject="s", data={})
    with pytest.raises(UnknownEventType):
        parse_data(event)
