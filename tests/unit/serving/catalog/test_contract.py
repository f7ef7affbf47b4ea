"""serving's products table keeps the columns the kernel's catalog contract promises readers."""

from __future__ import annotations

from serving.catalog.tables import products
from shoplake.catalog import products_read


def test_every_promised_column_exists_with_the_promised_type() -> None:
    for column in products_read.c:
        assert column.name in products.c, column.name
        actual = products.c[column.name].type
        assert type(actual) is type(column.type), (column.name, actual, column.type)
        assert repr(actual) == repr(column.type), (column.name, actual, column.type)
