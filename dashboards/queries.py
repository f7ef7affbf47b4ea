"""Every query the dashboards run, in one place: the pages chart them, the benchmark times them.

Each function returns the SQL and its parameters; filter values are always parameters, and the
only text pasted into a query is the category condition built here from placeholders.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple


class Query(NamedTuple):
    sql: str
    params: tuple[Any, ...] = ()


def _categories(
    categories: tuple[str, ...], column: str = "category"
) -> tuple[str, tuple[str, ...]]:
    """A condition on the chosen categories (all of them when none is chosen)."""
    if not categories:
        return "true", ()
    return f"{column} in ({', '.join('?' for _ in categories)})", categories


def date_bounds() -> Query:
    return Query("select min(date_day) as first, max(date_day) as last from gold.dim_date")


def categories() -> Query:
    return Query(
        "select distinct category from gold.dim_products where category is not null order by 1"
    )


def sales_per_day(first: date, last: date, chosen: tuple[str, ...]) -> Query:
    where, params = _categories(chosen)
    return Query(
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
        """,  # noqa: S608 - placeholders only
        (first, last, *params),
    )


def sales_by_category(first: date, last: date, chosen: tuple[str, ...]) -> Query:
    where, params = _categories(chosen)
    return Query(
        f"""
        select order_date, category, sum(net_cents) / 100.0 as net_eur
        from gold.sales_daily where order_date between ? and ? and {where}
        group by 1, 2 order by 1
        """,  # noqa: S608
        (first, last, *params),
    )


def top_brands(first: date, last: date, chosen: tuple[str, ...]) -> Query:
    where, params = _categories(chosen)
    return Query(
        f"""
        select brand, sum(net_cents) / 100.0 as net_eur from gold.sales_daily
        where order_date between ? and ? and {where} group by 1 order by 2 desc limit 12
        """,  # noqa: S608
        (first, last, *params),
    )


def sales_by_country(first: date, last: date, chosen: tuple[str, ...]) -> Query:
    where, params = _categories(chosen)
    return Query(
        f"""
        select country, sum(orders) as orders, sum(net_cents) / 100.0 as net_eur,
               sum(net_cents) / 100.0 / nullif(sum(orders), 0) as avg_order_eur
        from gold.sales_daily where order_date between ? and ? and {where}
        group by 1 order by 3 desc
        """,  # noqa: S608
        (first, last, *params),
    )


def promotions() -> Query:
    return Query(
        """
        select name, scope, starts_at, ends_at, redemptions, units,
               discount_cost_cents / 100.0 as discount_cost_eur,
               net_sales_cents / 100.0 as net_sales_eur, lift
        from gold.promotion_performance order by starts_at
        """
    )


def funnel_days(first: date, last: date) -> Query:
    return Query(
        "select * from gold.funnel_daily where date_day between ? and ? order by date_day",
        (first, last),
    )


def recommendations(first: date, last: date) -> Query:
    return Query(
        """
        select placement, model_version, sum(impressions) as impressions, sum(clicks) as clicks,
               sum(purchases) as purchases,
               sum(attributed_revenue_cents) / 100.0 as attributed_revenue_eur
        from gold.recommendation_performance where date_day between ? and ?
        group by 1, 2 order by clicks desc
        """,
        (first, last),
    )


def cohorts(first: date, last: date) -> Query:
    return Query(
        """
        select strftime(cohort_month, '%Y-%m') as cohort, months_since_first, retention_rate,
               active_customers, cohort_customers
        from gold.cohort_retention
        where cohort_month between date_trunc('month', ?::date) and ?
        order by cohort_month, months_since_first
        """,
        (first, last),
    )


def rfm_segments() -> Query:
    return Query(
        """
        select segment, count(*) as customers, sum(monetary_cents) / 100.0 as spent_eur,
               avg(recency_days) as avg_recency_days, avg(frequency) as avg_orders
        from gold.customer_rfm group by 1 order by 3 desc
        """
    )


def lifetime_value() -> Query:
    return Query(
        """
        select count(*) as buyers, avg(net_revenue_cents) / 100.0 as avg_value_eur,
               avg(projected_12m_revenue_cents) / 100.0 as avg_projected_eur
        from gold.customer_lifetime_value
        """
    )


def stock(chosen: tuple[str, ...]) -> Query:
    where, params = _categories(chosen)
    return Query(f"select * from gold.stock_health where {where}", params)  # noqa: S608


def demand(first: date, last: date, chosen: tuple[str, ...]) -> Query:
    where, params = _categories(chosen)
    return Query(
        f"""
        select date_day, category, sum(units_ordered) as units
        from gold.demand_daily where date_day between ? and ? and {where}
        group by 1, 2 order by 1
        """,  # noqa: S608
        (first, last, *params),
    )


def search_days(first: date, last: date) -> Query:
    return Query(
        "select * from gold.search_daily where date_day between ? and ? order by date_day",
        (first, last),
    )


def top_queries() -> Query:
    return Query("select * from gold.search_queries order by searches desc limit 15")


def zero_result_queries() -> Query:
    return Query(
        """
        select query, zero_result_searches, searches from gold.search_queries
        where zero_result_searches > 0 order by zero_result_searches desc limit 15
        """
    )


def finance() -> Query:
    return Query(
        """
        select order_date, gold_net_revenue_cents / 100.0 as gold_eur,
               silver_net_revenue_cents / 100.0 as silver_eur, difference_cents, is_reconciled
        from gold.finance_revenue_reconciliation order by order_date desc
        """
    )


def every_page(first: date, last: date, chosen: tuple[str, ...] = ()) -> dict[str, Query]:
    """Each query the pages run with these filters (the benchmark's workload)."""
    return {
        "sales_per_day": sales_per_day(first, last, chosen),
        "sales_by_category": sales_by_category(first, last, chosen),
        "top_brands": top_brands(first, last, chosen),
        "sales_by_country": sales_by_country(first, last, chosen),
        "promotions": promotions(),
        "funnel_days": funnel_days(first, last),
        "recommendations": recommendations(first, last),
        "cohorts": cohorts(first, last),
        "rfm_segments": rfm_segments(),
        "lifetime_value": lifetime_value(),
        "stock": stock(chosen),
        "demand": demand(first, last, chosen),
        "search_days": search_days(first, last),
        "top_queries": top_queries(),
        "zero_result_queries": zero_result_queries(),
        "finance": finance(),
    }
