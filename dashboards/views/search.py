"""Search: what shoppers look for, what finds nothing, and what follows a search."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data, queries
from dashboards.filters import sidebar

st.title("Search")
chosen = sidebar(with_categories=False)
if chosen is not None:
    days = data.frame(queries.search_days(chosen.first, chosen.last))
    if days.empty:
        st.info("No searches in these dates.")
    else:
        kpis = st.columns(3)
        kpis[0].metric("Searches", f"{int(days['searches'].sum()):,}")
        zero = days["zero_result_searches"].sum() / max(days["searches"].sum(), 1)
        kpis[1].metric("Found nothing", f"{zero:.1%}")
        kpis[2].metric("Then viewed a product", f"{days['search_to_view_rate'].mean():.1%}")
        st.subheader("Search → view and → cart, per day")
        st.altair_chart(
            charts.rates(
                days,
                "date_day",
                ["search_to_view_rate", "search_to_cart_rate", "zero_result_rate"],
                "share of searches",
            ),
            width="stretch",
        )
    top = data.frame(queries.top_queries())
    left, right = st.columns(2)
    left.subheader("Top queries")
    left.altair_chart(charts.ranked_bars(top, "query", "searches", "searches"), width="stretch")
    zero_queries = data.frame(queries.zero_result_queries())
    right.subheader("Queries that found nothing")
    right.dataframe(zero_queries, hide_index=True, width="stretch")
