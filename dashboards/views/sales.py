"""Sales overview: revenue by day with its trend and peaks, categories, brands, countries."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data, queries
from dashboards.filters import sidebar

st.title("Sales overview")
chosen = sidebar()
if chosen is not None:
    span = (chosen.first, chosen.last, chosen.categories)
    daily = data.frame(queries.sales_per_day(*span))
    if daily.empty:
        st.info("No confirmed sales in these dates.")
    else:
        revenue, orders = daily["net_eur"].sum(), daily["orders"].sum()
        kpis = st.columns(4)
        kpis[0].metric("Net revenue", f"€{revenue:,.0f}")
        kpis[1].metric("Orders", f"{orders:,.0f}")
        kpis[2].metric("Average order value", f"€{revenue / max(orders, 1):,.2f}")
        kpis[3].metric("Discounts given", f"€{daily['discount_eur'].sum():,.0f}")
        st.subheader("Net revenue per day")
        st.altair_chart(charts.revenue_trend(daily), width="stretch")
        left, right = st.columns(2)
        left.subheader("By category")
        left.altair_chart(
            charts.stacked_bars(
                data.frame(queries.sales_by_category(*span)),
                "order_date",
                "net_eur",
                "category",
                "EUR",
            ),
            width="stretch",
        )
        right.subheader("Top brands")
        right.altair_chart(
            charts.ranked_bars(data.frame(queries.top_brands(*span)), "brand", "net_eur", "EUR"),
            width="stretch",
        )
        st.subheader("By country")
        st.dataframe(data.frame(queries.sales_by_country(*span)), hide_index=True, width="stretch")
    st.subheader("Promotions")
    st.dataframe(
        data.frame(queries.promotions()),
        hide_index=True,
        width="stretch",
        column_config={"lift": st.column_config.NumberColumn(format="percent")},
    )
