"""Customers: monthly cohort retention, RFM segments, lifetime value."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data
from dashboards.filters import sidebar

st.title("Customers")
chosen = sidebar(with_categories=False, default_days=365)
if chosen is not None:
    cohorts = data.frame(
        """
        select strftime(cohort_month, '%Y-%m') as cohort, months_since_first, retention_rate,
               active_customers, cohort_customers
        from gold.cohort_retention
        where cohort_month between date_trunc('month', ?::date) and ?
        order by cohort_month, months_since_first
        """,
        (chosen.first, chosen.last),
    )
    st.subheader("Cohort retention")
    if cohorts.empty:
        st.info("No first orders in these dates.")
    else:
        st.altair_chart(charts.heatmap(cohorts), width="stretch")
    segments = data.frame(
        """
        select segment, count(*) as customers, sum(monetary_cents) / 100.0 as spent_eur,
               avg(recency_days) as avg_recency_days, avg(frequency) as avg_orders
        from gold.customer_rfm group by 1 order by 3 desc
        """
    )
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
    value = data.frame(
        """
        select count(*) as buyers, avg(net_revenue_cents) / 100.0 as avg_value_eur,
               avg(projected_12m_revenue_cents) / 100.0 as avg_projected_eur
        from gold.customer_lifetime_value
        """
    )
    kpis = st.columns(3)
    kpis[0].metric("Buyers", f"{int(value['buyers'][0]):,}")
    kpis[1].metric("Value so far", f"€{(value['avg_value_eur'][0] or 0):,.2f}")
    kpis[2].metric("Projected next 12 months", f"€{(value['avg_projected_eur'][0] or 0):,.2f}")
