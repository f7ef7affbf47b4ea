"""Reading import files: each row with the line it starts on, validated by the API's models."""

from __future__ import annotations

import io

import pytest

from serving.catalog.schemas import ProductCreate
from serving.imports.rows import HeaderError, csv_rows, jsonl_rows, read_rows
from serving.imports.schemas import ImportFormat, StockRow

HEADER = "sku,name,brand,category_path,price_cents,attributes,image_urls,description\n"


def _csv(text: str) -> io.StringIO:
    return io.StringIO(text, newline="")


def test_good_rows_decode_lists_and_objects_and_leave_empty_cells_to_the_defaults() -> None:
    text = (
        "\ufeff"
        + HEADER  # Excel's BOM, as `utf-8-sig` would not strip it from a str
        + 'SKU-1,Kettle,Acme,kitchen/kettles,2599,"{""volume"": ""1.7l""}",https://img.example.com/a.jpg|https://img.example.com/b.jpg,\n'
    ).lstrip("\ufeff")
    (row,) = list(csv_rows(_csv(text), ProductCreate))
    assert row.line == 2 and row.errors == ()
    product = row.value
    assert isinstance(product, ProductCreate)
    assert product.category_path == ["kitchen", "kettles"]
    assert product.attributes == {"volume": "1.7l"} and product.image_urls == [
        "https://img.example.com/a.jpg",
        "https://img.example.com/b.jpg",
    ]
    assert product.description == "" and product.currency == "EUR" and product.status == "active"


def test_the_line_is_where_a_row_starts_even_after_a_cell_that_spans_lines() -> None:
    text = (
        HEADER
        + 'SKU-1,Kettle,Acme,kitchen,100,,,"two\nlines, and a ""quote"""\n'
        + "SKU-2,Mug,Acme,kitchen,-5,,,\n"
        + "SKU-3,Pan,Acme\n"
        + "\n"
        + "SKU 4,Pot,Acme,Kitchen,12.50,{not json,,\n"
    )
    rows = list(csv_rows(_csv(text), ProductCreate))
    assert [r.line for r in rows] == [2, 4, 5, 7]
    assert isinstance(rows[0].value, ProductCreate) and "two\nlines" in rows[0].value.description
    (negative,) = rows[1].errors
    assert (negative.line, negative.column, negative.value) == (4, "price_cents", "-5")
    assert "greater than or equal to 0" in negative.reason
    assert rows[2].errors[0].reason == "expected 8 fields, got 3"
    columns = sorted(e.column or "" for e in rows[3].errors)
    # Every fault of the row at once: the cell that is not JSON, and what the model refuses.
    assert columns == ["attributes", "category_path.0", "price_cents", "sku"]
    assert rows[3].value is None


def test_a_row_is_validated_whole_and_every_fault_is_reported() -> None:
    text = HEADER + "SKU 4,,Acme,Kitchen,12.50,,,\n"
    (row,) = list(csv_rows(_csv(text), ProductCreate))
    assert sorted(e.column or "" for e in row.errors) == [
        "category_path.0",
        "name",
        "price_cents",
        "sku",
    ]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("sku,name,brand,category_path,price_cents,colour\n", "unknown columns: colour"),
        ("sku,name,brand\n", "missing columns: category_path, price_cents"),
        ("sku,sku,name,brand,category_path,price_cents\n", "a column is named twice"),
    ],
)
def test_a_wrong_header_refuses_the_file(header: str, reason: str) -> None:
    with pytest.raises(HeaderError) as refused:
        list(csv_rows(_csv(header + "x,y,z\n"), ProductCreate))
    assert refused.value.error.line == 1 and reason in refused.value.error.reason


def test_json_lines() -> None:
    text = (
        '{"sku": "SKU-1", "warehouse_id": "WH-1", "on_hand": 5}\n'
        "\n"
        "not json\n"
        "[1, 2]\n"
        '{"sku": "SKU-2", "warehouse_id": "WH-1", "on_hand": 5, "colour": "red"}\n'
        '{"sku": "SKU-3", "warehouse_id": "WH-1", "on_hand": -1}\n'
    )
    rows = list(jsonl_rows(io.StringIO(text), StockRow))
    assert [r.line for r in rows] == [1, 3, 4, 5, 6]
    assert rows[0].value == StockRow(sku="SKU-1", warehouse_id="WH-1", on_hand=5)
    assert rows[1].errors[0].reason.startswith("not JSON")
    assert rows[2].errors[0].reason == "a row must be a JSON object"
    assert rows[3].errors[0].column == "colour"
    assert rows[4].errors[0].column == "on_hand"


def test_stock_rows_follow_the_counts_rules_of_the_api() -> None:
    text = "sku,warehouse_id,on_hand,note\nSKU-1,WH-1,3,\nSKU-2,WH 1,3,\nSKU-3,WH-1,3,x\n"
    rows = list(read_rows(_csv(text), ImportFormat.CSV, StockRow))
    assert rows[0].value == StockRow(sku="SKU-1", warehouse_id="WH-1", on_hand=3)
    assert rows[1].errors[0].column == "warehouse_id"
    assert rows[2].value == StockRow(sku="SKU-3", warehouse_id="WH-1", on_hand=3, note="x")
