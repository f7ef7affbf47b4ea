"""The conversion funnel: session → view → cart → checkout → paid, and recommendations."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data, queries
from dashboards.filters import sidebar

st.title("Funnel")
chosen = sidebar(with_categories=False)
if chosen is not None:
    days = data.frame(queries.funnel_days(chosen.first, chosen.last))
    if days.empty:
        st.info("No sessions in these dates.")
    else:
        totals = days[
            ["sessions", "view_sessions", "cart_sessions", "checkout_sessions", "paid_sessions"]
        ].sum()
        steps = pd.DataFrame(
            {
                "step": ["sessions", "viewed a product", "added to cart", "checked out", "paid"],
                "sessions": totals.to_list(),
            }
        )
        steps["share"] = steps["sessions"] / max(int(totals["sessions"]), 1)
        kpis = st.columns(3)
        kpis[0].metric("Sessions", f"{int(totals['sessions']):,}")
        kpis[1].metric("Conversion", f"{totals['paid_sessions'] / max(totals['sessions'], 1):.2%}")
        abandoned = days["cart_abandonment_rate"].mean()
        kpis[2].metric("Cart abandonment", "-" if pd.isna(abandoned) else f"{abandoned:.1%}")
        left, right = st.columns(2)
        left.subheader("Where sessions drop out")
        left.altair_chart(charts.funnel(steps), width="stretch")
        right.subheader("Rates per day")
        right.altair_chart(
            charts.rates(days, "date_day", ["cart_rate", "conversion_rate"], "share of sessions"),
            width="stretch",
        )
    recommendations = data.frame(queries.recommendations(chosen.first, chosen.last))
    st.subheader("Recommendations: shown → clicked → bought")
    st.dataframe(recommendations, hide_index=True, width="stretch")
