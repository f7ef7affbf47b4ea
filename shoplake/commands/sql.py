"""`shoplake sql`: DuckDB over the lake, every silver and gold table a view (`gold.sales_daily`).

`shoplake sql -c "select ..."` prints the result as a table; without `-c` it reads statements
from the terminal (end each with `;`, `.tables` lists the views, `.quit` or Ctrl-D leaves).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from shoplake.commands.common import console, fail
from shoplake.config import get_settings

if TYPE_CHECKING:  # duckdb loads only when the command runs
    from shoplake.duck import QueryResult

MAX_ROWS = 200


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float | Decimal):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def render(result: QueryResult, title: str | None = None) -> Table:
    columns, rows, seconds = result.columns, result.rows, result.seconds
    table = Table(title=title, caption=f"{len(rows):,} rows in {seconds * 1000:.0f} ms")
    for column in columns:
        table.add_column(column)
    for row in rows[:MAX_ROWS]:
        table.add_row(*(_cell(value) for value in row))
    if len(rows) > MAX_ROWS:
        table.caption = f"{len(rows):,} rows (first {MAX_ROWS} shown) in {seconds * 1000:.0f} ms"
    return table


def sql(
    command: str | None = typer.Option(None, "--command", "-c", help="run this and exit"),
    lake: str | None = typer.Option(None, help="the lake root (default: SHOPLAKE_LAKE_ROOT)"),
) -> None:
    """DuckDB with every silver and gold table as a view, through delta-rs."""
    import duckdb

    from shoplake.duck import connect, query

    con, found = connect(lake or get_settings().lake_path)
    if command is not None:
        try:
            result = query(con, command)
        except duckdb.Error as exc:
            raise fail(str(exc)) from None
        console.print(render(result))
        return
    console.print(f"{len(found)} tables: " + ", ".join(t.name for t in found), highlight=False)
    buffer: list[str] = []
    while True:
        try:
            line = input("sql> " if not buffer else "...> ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not buffer and line.strip() in (".quit", ".exit"):
            return
        if not buffer and line.strip() == ".tables":
            console.print("\n".join(t.name for t in found), highlight=False)
            continue
        buffer.append(line)
        if not line.rstrip().endswith(";"):
            continue
        statement, buffer = "\n".join(buffer), []
        try:
            result = query(con, statement)
        except duckdb.Error as exc:
            console.print(f"[red]{exc}[/]", highlight=False)
            continue
        console.print(render(result))
