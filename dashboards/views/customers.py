"""Customers: monthly cohort retention, RFM segments, lifetime value."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data, queries
from dashboards.filters import sidebar

st.title("Customers")
chosen = sidebar(with_categories=False, default_days=365)
if chosen is not None:
    cohorts = data.frame(queries.cohorts(chosen.first, chosen.last))
    st.subheader("Cohort retention")
    if cohorts.empty:
        st.info("No first orders in these dates.")
    else:
        st.altair_chart(charts.heatmap(cohorts), width="stretch")
    segments = data.frame(queries.rfm_segments())
    left, right = st.columns(2)
    left.subheader("RFM segments")
    left.altair_chart(
        charts.ranked_bars(segments, "segment", "customers", "customers"), width="stretch"
    )
    right.subheader("Recency, frequency, spend")
    right.altair_chart(
        charts.scatter(segments, "avg_recency_days", "avg_orders", "segment", "spent_eur"),
        width="stretch",
    )
    value = data.frame(queries.lifetime_value())
    kpis = st.columns(3)
    kpis[0].metric("Buyers", f"{int(value['buyers'][0]):,}")
    kpis[1].metric("Value so far", f"€{(value['avg_value_eur'][0] or 0):,.2f}")
    kpis[2].metric("Projected next 12 months", f"€{(value['avg_projected_eur'][0] or 0):,.2f}")
