"""Data health: the quality gates' last results, the finance reconciliation, and how fresh
every silver and gold table is."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboards import charts, data, queries
from shoplake.duck import freshness

st.title("Data health")
settings = data.settings()
results = settings.gold_path / "quality" / "results"
st.subheader("Quality gates")
columns = st.columns(2)
for column, layer in zip(columns, ("silver", "gold"), strict=True):
    path = results / f"{layer}.json"
    if not path.exists():
        column.info(f"The {layer} gate has not run yet (`shoplake gold gate {layer}`).")
        continue
    gate = json.loads(path.read_text())
    verdict = "passed" if gate["ok"] else "FAILED"
    column.metric(f"{layer} gate", verdict, help=f"ran at {gate['at']}")
    rows = pd.DataFrame(
        [
            {
                "table": table["table"],
                "rows": table["rows"],
                "expectations": table["expectations"],
                "failures": "; ".join(
                    f"{f['expectation']} ({f['unexpected']} rows)" for f in table["failures"]
                )
                or ("no table yet" if table["missing"] else "none"),
            }
            for table in gate["tables"]
        ]
    )
    column.dataframe(rows, hide_index=True, width="stretch")

st.subheader("Finance: net revenue, the marts against silver")
try:
    finance = data.frame(queries.finance())
except data.MartsMissing:
    st.info("The finance mart is not built yet.")
else:
    off = finance[~finance["is_reconciled"]]
    st.metric("Days that do not reconcile", f"{len(off)} of {len(finance)}")
    st.dataframe(off if len(off) else finance.head(7), hide_index=True, width="stretch")


@st.cache_data(ttl=data.TTL_S, show_spinner=False)
def _freshness(lake_root: str) -> pd.DataFrame:
    now = datetime.now(UTC)
    return pd.DataFrame(
        [
            {
                "table": item.name,
                "layer": item.name.split(".")[0],
                "version": item.version,
                "rows": item.rows,
                "last write": item.last_write,
                "hours since write": None
                if item.last_write is None
                else round((now - item.last_write).total_seconds() / 3600, 2),
            }
            for item in freshness(lake_root)
        ]
    )


st.subheader("Freshness of every table")
tables = _freshness(settings.lake_path)
written = tables[tables["hours since write"].notna()]
st.altair_chart(
    charts.ranked_bars(written, "table", "hours since write", "hours since the last write"),
    width="stretch",
)
st.dataframe(tables, hide_index=True, width="stretch")
