"""Lake tables to pandas and back through delta-rs: the models read silver/gold and write gold
without a Spark session (a model run on one machine should not pay Spark's start-up)."""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from shoplake.lake import Table

_SCALARS: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


def arrow_type(ddl_type: str) -> pa.DataType:
    """The Arrow type of a registry column (scalars and arrays of scalars)."""
    array = re.fullmatch(r"array<(\w+)>", ddl_type)
    if array:
        return pa.list_(_SCALARS[array[1]])
    return _SCALARS[ddl_type]


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema(
        [pa.field(c.name, arrow_type(c.type), nullable=c.nullable) for c in table.columns]
    )


def exists(table: Table, lake_root: str) -> bool:
    return bool(DeltaTable.is_deltatable(table.path(lake_root)))


def read(table: Table, lake_root: str, columns: list[str] | None = None) -> pd.DataFrame:
    """The table as a data frame; an empty frame with the table's columns when it is absent."""
    wanted = columns or list(table.column_names)
    if not exists(table, lake_root):
        return arrow_schema(table).empty_table().select(wanted).to_pandas()
    return DeltaTable(table.path(lake_root)).to_pandas(columns=wanted)


def write(frame: pd.DataFrame, table: Table, lake_root: str, *, mode: str = "overwrite") -> int:
    """Write the frame (cast to the table's schema) as the table's new version; rows written."""
    schema = arrow_schema(table)
    data = pa.Table.from_pandas(frame[list(table.column_names)], preserve_index=False)
    data = data.cast(schema)
    write_deltalake(
        table.path(lake_root),
        data,
        mode="overwrite" if mode == "overwrite" else "append",
        partition_by=list(table.partition_by) or None,
        schema_mode="overwrite" if mode == "overwrite" else None,
    )
    return int(data.num_rows)
