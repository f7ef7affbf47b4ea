"""Inventory health: status, days of cover, stockouts, slow movers, demand."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data, queries
from dashboards.filters import sidebar

st.title("Inventory health")
chosen = sidebar()
if chosen is not None:
    stock = data.frame(queries.stock(chosen.categories))
    statuses = (
        stock.groupby("stock_status", as_index=False).size().rename(columns={"size": "products"})
    )
    kpis = st.columns(4)
    kpis[0].metric("Products", f"{len(stock):,}")
    kpis[1].metric("Out of stock", f"{int((stock['stock_status'] == 'out').sum()):,}")
    kpis[2].metric("Slow movers", f"{int(stock['is_slow_mover'].sum()):,}")
    kpis[3].metric("Units on hand", f"{int(stock['on_hand'].sum()):,}")
    left, right = st.columns(2)
    left.subheader("Stock status")
    left.altair_chart(charts.donut(statuses, "stock_status", "products"), width="stretch")
    right.subheader("Days of cover")
    cover = stock[stock["days_of_cover"].notna()].assign(
        days_of_cover=lambda f: f["days_of_cover"].clip(upper=180)
    )
    right.altair_chart(
        charts.histogram(cover, "days_of_cover", "days of cover (capped at 180)"),
        width="stretch",
    )
    demand = data.frame(queries.demand(chosen.first, chosen.last, chosen.categories))
    st.subheader("Units ordered per day")
    st.altair_chart(
        charts.stacked_bars(demand, "date_day", "units", "category", "units"), width="stretch"
    )
    st.subheader("Most days out of stock (last 90 days)")
    st.dataframe(
        stock.sort_values("stockout_days_90d", ascending=False).head(15)[
            [
                "sku",
                "category",
                "brand",
                "available",
                "stockout_days_90d",
                "units_sold_28d",
                "stock_status",
            ]
        ],
        hide_index=True,
        width="stretch",
    )
