"""The Spark SQL endpoint (the HiveServer2 Thrift protocol): connect, query, and register the
lake's tables by name (`silver.orders`, `gold.fct_orders`) from the table registry.

The stack's Thrift server owns its metastore; every other process reaches the tables through
this endpoint (dbt, beeline, PyHive, JDBC clients) or reads the Delta files directly (Spark jobs,
delta-rs, DuckDB). PyHive and delta-rs are imported inside the functions, so the kernel stays
light for whoever does not call them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shoplake.config import Settings
from shoplake.lake import GOLD_TABLES, SILVER_TABLES, Table

if TYPE_CHECKING:
    from pyhive.hive import Cursor

# Who the endpoint's audit log names; the local server has no authentication (loopback only).
CLIENT_USER = "shoplake"


@contextmanager
def cursor(settings: Settings, *, timeout_s: float = 600.0) -> Iterator[Cursor]:
    """A cursor on the endpoint, closed afterwards. Raises whatever PyHive or Thrift raise.

    PyHive's own `connect` has no timeout, so the socket is built here (SASL PLAIN with any
    password, which is what an endpoint without authentication expects): a server that accepts
    the connection and never answers fails the call after `timeout_s` instead of hanging it.
    """
    import thrift_sasl
    from pyhive import hive
    from thrift.transport.TSocket import TSocket

    host, port = settings.spark_sql_endpoint
    socket = TSocket(host, port)
    socket.setTimeout(int(timeout_s * 1000))

    def sasl() -> Any:
        return hive.get_installed_sasl(
            host=host, sasl_auth="PLAIN", username=CLIENT_USER, password="x"
        )

    transport = thrift_sasl.TSaslClientTransport(sasl, "PLAIN", socket)
    connection = hive.connect(thrift_transport=transport, username=CLIENT_USER)
    try:
        yield connection.cursor()
    finally:
        connection.close()


def query(settings: Settings, sql: str, *, timeout_s: float = 600.0) -> list[tuple[Any, ...]]:
    """Run one statement and return its rows (none for DDL)."""
    with cursor(settings, timeout_s=timeout_s) as cur:
        cur.execute(sql)
        return list(cur.fetchall()) if cur.description else []


def schema_name(layer: str, prefix: str = "") -> str:
    """The endpoint's schema (database) of a lake layer; tests use a prefix of their own."""
    return f"{prefix}{layer}"


def qualified_name(table: Table, prefix: str = "") -> str:
    return f"{schema_name(table.layer, prefix)}.{table.short_name}"


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def create_statement(table: Table, lake_root: str, prefix: str = "") -> str:
    """`CREATE TABLE` of an empty table at its lake path, with the registry's schema."""
    columns = ", ".join(
        f"{c.name} {c.type}{'' if c.nullable else ' NOT NULL'}" for c in table.columns
    )
    partitioned = f" PARTITIONED BY ({', '.join(table.partition_by)})" if table.partition_by else ""
    return (
        f"CREATE TABLE IF NOT EXISTS {qualified_name(table, prefix)} ({columns}) USING DELTA"
        f"{partitioned} LOCATION {_quoted(table.path(lake_root))}"
        f" COMMENT {_quoted(table.description)}"
    )


def register_statement(table: Table, lake_root: str, prefix: str = "") -> str:
    """`CREATE TABLE` naming a Delta table that exists: the schema comes from its log."""
    return (
        f"CREATE TABLE IF NOT EXISTS {qualified_name(table, prefix)} USING DELTA "
        f"LOCATION {_quoted(table.path(lake_root))}"
    )


def is_delta_table(path: str) -> bool:
    from deltalake import DeltaTable

    return bool(DeltaTable.is_deltatable(path))


@dataclass(frozen=True)
class Registration:
    registered: tuple[str, ...]  # named now, from a Delta log that exists
    created: tuple[str, ...]  # created empty from the registry (silver not written yet)
    dropped: tuple[str, ...]  # named, but their files are gone
    waiting: tuple[str, ...]  # gold tables dbt has not built yet

    @property
    def changed(self) -> bool:
        return bool(self.registered or self.created or self.dropped)


def register_tables(
    cur: Cursor,
    lake_root: str,
    *,
    prefix: str = "",
    tables: Sequence[Table] = (*SILVER_TABLES, *GOLD_TABLES),
) -> Registration:
    """Name every silver and gold table in the endpoint's metastore, if it is not named yet.

    A fresh metastore (a new server, a deleted `metastore_db`) gets every table back from the
    registry: the ones with a Delta log by their location, silver tables that nothing wrote yet
    as empty tables of the registry's schema (so that dbt's sources always resolve), gold ones
    only once dbt built them. A name whose files are gone is dropped (and silver re-created).
    """
    named: dict[str, set[str]] = {}
    for layer in sorted({t.layer for t in tables}):
        schema = schema_name(layer, prefix)
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {schema}")
        cur.execute(f"SHOW TABLES IN {schema}")
        named[layer] = {str(row[1]) for row in cur.fetchall()}
    registered, created, dropped, waiting = [], [], [], []
    for table in tables:
        name = qualified_name(table, prefix)
        exists = is_delta_table(table.path(lake_root))
        if table.short_name in named[table.layer]:
            if exists:
                continue
            cur.execute(f"DROP TABLE IF EXISTS {name}")
            dropped.append(name)
        if exists:
            cur.execute(register_statement(table, lake_root, prefix))
            registered.append(name)
        elif table.layer == "silver":
            cur.execute(create_statement(table, lake_root, prefix))
            created.append(name)
        else:
            waiting.append(name)
    return Registration(tuple(registered), tuple(created), tuple(dropped), tuple(waiting))


def name_written_tables(settings: Settings, tables: Sequence[Table]) -> Registration | None:
    """Name tables written outside dbt (the models' gold tables) in the endpoint at once, so an
    analyst sees `gold.demand_forecasts` as soon as it exists, not after the next restart.

    None when the endpoint is not answering: it names every table of the registry when it
    next starts, so nothing is lost by going on without it.
    """
    from thrift.Thrift import TException

    try:
        with cursor(settings, timeout_s=60) as cur:
            return register_tables(cur, settings.lake_path, tables=tables)
    except (TException, OSError):
        return None


def drop_schemas(cur: Cursor, layers: Iterable[str], prefix: str) -> None:
    """Forget a test's schemas (names only: external tables keep their files)."""
    if not prefix:
        raise ValueError("refusing to drop the shared schemas: give the test's prefix")
    for layer in layers:
        cur.execute(f"DROP DATABASE IF EXISTS {schema_name(layer, prefix)} CASCADE")
