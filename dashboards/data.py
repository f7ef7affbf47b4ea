"""The dashboards' one door to the data: DuckDB over the gold marts, cached for a minute.

The connection (a view per gold table, through delta-rs) is made once a minute, so a rebuilt
mart shows up within a minute; each query's frame is cached as long. Queries take the filters as
parameters, never as pasted text.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from dashboards import queries
from dashboards.queries import Query
from shoplake.config import Settings
from shoplake.lake import GOLD_TABLES

TTL_S = 60


class MartsMissing(RuntimeError):
    """The marts a page needs have not been built yet."""


def settings() -> Settings:
    # Read afresh (not the process-wide cached settings): the app runs in whatever environment
    # it was started in, and tests point it at a lake of their own.
    return Settings()


@st.cache_resource(ttl=TTL_S, show_spinner=False)
def _connection(lake_root: str) -> tuple[duckdb.DuckDBPyConnection, threading.Lock]:
    """One connection per minute, with a lock: its views read Arrow datasets registered on
    this connection only (a cursor would not see them), and sessions run in threads."""
    from shoplake.duck import connect

    con, _ = connect(lake_root, GOLD_TABLES)
    return con, threading.Lock()


def frame(query: Query) -> pd.DataFrame:
    """The query's result; MartsMissing when a table it reads is not there yet."""
    return _frame(settings().lake_path, query.sql, query.params)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _frame(lake_root: str, sql: str, params: tuple[Any, ...]) -> pd.DataFrame:
    con, lock = _connection(lake_root)
    with lock:
        try:
            return con.execute(sql, list(params)).df()
        except duckdb.CatalogException as exc:
            raise MartsMissing(str(exc)) from exc


def date_bounds() -> tuple[date, date] | None:
    days = frame(queries.date_bounds())
    if days.empty or pd.isna(days["first"][0]):
        return None
    return days["first"][0].date(), days["last"][0].date()


def categories() -> list[str]:
    found = frame(queries.categories())
    return [str(c) for c in found["category"]]
