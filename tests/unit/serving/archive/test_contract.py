"""serving's tables keep what the kernel's archive contract promises the archive job: the same
columns with the same types, and every table that deleting an order cascades to is archived
(a new child table of orders must join the contract, or the archive would silently drop it)."""

from __future__ import annotations

import sqlalchemy as sa

import serving.tables  # noqa: F401 - every domain's tables on the shared metadata
from shoplake.archive.contract import ARCHIVED_TABLES, BY_NAME, ORDERS
from shoplake.db import metadata
from shoplake.lake import ARCHIVE_TABLES


def test_every_promised_column_exists_with_the_promised_type() -> None:
    for archived in ARCHIVED_TABLES:
        table = metadata.tables[archived.name]
        for column in archived.source.c:
            assert column.name in table.c, (archived.name, column.name)
            actual = table.c[column.name].type
            assert type(actual) is type(column.type), (archived.name, column.name, actual)
        # Every column is archived: a new one must be added here (and to the lake's table).
        assert set(table.c.keys()) == set(archived.source_columns), archived.name


def _cascades_from_orders() -> set[str]:
    """Tables whose rows a delete of an order removes, following ON DELETE CASCADE."""
    reached, frontier = {ORDERS.name}, [ORDERS.name]
    while frontier:
        parent = frontier.pop()
        for table in metadata.tables.values():
            for fk in table.foreign_keys:
                if fk.column.table.name == parent and table.name not in reached:
                    assert fk.ondelete == "CASCADE", (table.name, "must cascade or block")
                    reached.add(table.name)
                    frontier.append(table.name)
    return reached


def test_every_table_an_order_delete_reaches_is_archived() -> None:
    assert _cascades_from_orders() == set(BY_NAME)


def test_tables_reached_through_a_parent_name_a_real_foreign_key() -> None:
    for archived in ARCHIVED_TABLES:
        if archived.via is None:
            assert archived.order_column in metadata.tables[archived.name].c
            continue
        child = metadata.tables[archived.name]
        keys = {(fk.parent.name, fk.column.table.name, fk.column.name) for fk in child.foreign_keys}
        assert (archived.via.column, archived.via.parent, archived.via.key) in keys


def test_the_lakes_archive_tables_are_partitioned_by_month_and_carry_the_batch() -> None:
    for archived in ARCHIVED_TABLES:
        table = ARCHIVE_TABLES[archived.name]
        assert table.name == f"archive.{archived.name}" and table.partition_by == ("order_month",)
        names = table.column_names
        assert names[: len(archived.source_columns)] == archived.source_columns
        assert {"order_month", "archive_batch"} <= set(names)
        assert archived.via is None or "order_id" in names
    assert isinstance(ORDERS.source, sa.TableClause)
