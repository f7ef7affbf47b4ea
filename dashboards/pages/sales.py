"""Sales overview: revenue by day with its trend and peaks, categories, brands, countries."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data
from dashboards.filters import sidebar

st.title("Sales overview")
chosen = sidebar()
if chosen is not None:
    where, params = chosen.category_clause()
    daily = data.frame(
        f"""
        with days as (
            select order_date, sum(net_cents) / 100.0 as net_eur, sum(orders) as orders,
                   sum(units) as units, sum(discount_cents) / 100.0 as discount_eur
            from gold.sales_daily
            where order_date between ? and ? and {where}
            group by order_date
        )
        select days.*, dates.holiday_name,
               avg(net_eur) over (order by days.order_date rows 6 preceding) as avg_7d_eur
        from days left join gold.dim_date as dates on dates.date_day = days.order_date
        order by days.order_date
        """,  # noqa: S608 - the clause is ours, the values are parameters
        (chosen.first, chosen.last, *params),
    )
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
        by_category = data.frame(
            f"""
            select order_date, category, sum(net_cents) / 100.0 as net_eur
            from gold.sales_daily where order_date between ? and ? and {where}
            group by 1, 2 order by 1
            """,  # noqa: S608
            (chosen.first, chosen.last, *params),
        )
        left, right = st.columns(2)
        left.subheader("By category")
        left.altair_chart(
            charts.stacked_bars(by_category, "order_date", "net_eur", "category", "EUR"),
            width="stretch",
        )
        brands = data.frame(
            f"""
            select brand, sum(net_cents) / 100.0 as net_eur from gold.sales_daily
            where order_date between ? and ? and {where} group by 1 order by 2 desc limit 12
            """,  # noqa: S608
            (chosen.first, chosen.last, *params),
        )
        right.subheader("Top brands")
        right.altair_chart(charts.ranked_bars(brands, "brand", "net_eur", "EUR"), width="stretch")
        countries = data.frame(
            f"""
            select country, sum(orders) as orders, sum(net_cents) / 100.0 as net_eur,
                   sum(net_cents) / 100.0 / nullif(sum(orders), 0) as avg_order_eur
            from gold.sales_daily where order_date between ? and ? and {where}
            group by 1 order by 3 desc
            """,  # noqa: S608
            (chosen.first, chosen.last, *params),
        )
        st.subheader("By country")
        st.dataframe(countries, hide_index=True, width="stretch")
    promotions = data.frame(
        """
        select name, scope, starts_at, ends_at, redemptions, units,
               discount_cost_cents / 100.0 as discount_cost_eur,
               net_sales_cents / 100.0 as net_sales_eur, lift
        from gold.promotion_performance order by starts_at
        """
    )
    st.subheader("Promotions")
    st.dataframe(
        promotions,
        hide_index=True,
        width="stretch",
        column_config={"lift": st.column_config.NumberColumn(format="percent")},
    )
