"""Silver reads event payloads with Spark schemas derived from the event contract."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, Field

from shoplake.events import REGISTRY
from shoplake.events.base import INT32_MAX, EventData
from shoplake.lake import SILVER_TABLES, _spark_type, event_data_schema


class _Line(BaseModel):
    sku: str
    quantity: int = Field(ge=1, le=INT32_MAX)


@pytest.mark.parametrize(
    ("annotation", "field", "expected"),
    [
        (str, None, "string"),
        (str | None, None, "string"),
        (bool, None, "boolean"),
        (int, Field(le=INT32_MAX), "int"),
        (int, Field(le=2**53), "bigint"),
        (int, None, "bigint"),
        (list[str], None, "array<string>"),
        (dict[str, Any], None, "string"),
        (list[_Line], None, "array<struct<sku: string, quantity: int>>"),
    ],
)
def test_payload_annotations_map_onto_spark_types(
    annotation: Any, field: Any, expected: str
) -> None:
    class Probe(BaseModel):
        value: annotation = field if field is not None else ...

    info = Probe.model_fields["value"]
    assert _spark_type(info.annotation, info) == expected


def test_the_order_schema_is_the_union_of_the_order_events() -> None:
    schema = event_data_schema(("shop.order.OrderPlaced.v1", "shop.order.OrderStatusChanged.v1"))
    assert schema.startswith("order_id string, user_id string, lines array<struct<sku: string")
    assert "to_status string" in schema
    assert schema.count("order_id ") == 1


def test_one_name_with_two_types_across_a_tables_events_is_refused() -> None:
    class _A(EventData):
        domain: ClassVar[str] = "probe"
        fact: ClassVar[str] = "A"
        key_field: ClassVar[str] = "id"
        id: str
        amount: int

    class _B(_A):
        fact: ClassVar[str] = "B"
        amount: str  # type: ignore[assignment]

    REGISTRY["shop.probe.A.v1"], REGISTRY["shop.probe.B.v1"] = _A, _B
    try:
        with pytest.raises(TypeError, match="one name, one type"):
            event_data_schema(("shop.probe.A.v1", "shop.probe.B.v1"))
    finally:
        del REGISTRY["shop.probe.A.v1"], REGISTRY["shop.probe.B.v1"]


@pytest.mark.parametrize(
    "table", [t for t in SILVER_TABLES if t.source_types], ids=lambda t: str(t.name)
)
def test_every_silver_tables_events_agree_on_their_field_types(table: Any) -> None:
    # Raises TypeError when two of the table's event types give one field two types.
    # Top-level fields only: a struct's own fields (`array<struct<sku: string, ...>>`) may
    # repeat across two of its columns.
    names = [
        column.split(" ", 1)[0] for column in _top_level(event_data_schema(table.source_types))
    ]
    assert len(names) == len(set(names))


def _top_level(ddl: str) -> list[str]:
    """The DDL's columns, split at the commas outside struct and array brackets."""
    columns, depth, start = [], 0, 0
    for i, char in enumerate(ddl):
        depth += {"<": 1, ">": -1}.get(char, 0)
        if char == "," and depth == 0:
            columns.append(ddl[start:i].strip())
            start = i + 1
    return [*columns, ddl[start:].strip()]
