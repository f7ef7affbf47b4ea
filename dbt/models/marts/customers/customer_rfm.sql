-- Recency, frequency and monetary value of every buyer, scored 1-5 by quintile (5 is best:
-- most recent, most orders, most spent; equal values share a score), and the segment the
-- (recency, frequency) pair names in the `rfm_segments` seed.
with

orders as (
    select * from {{ ref('fct_orders') }}
    where is_confirmed and customer_id is not null
),

as_of as (
    select last_day as as_of_date from {{ ref('int_lake_dates') }}
),

segments as (
    select * from {{ ref('rfm_segments') }}
),

customers as (
    select
        customer_id,
        max(order_date) as last_order_date,
        count(*) as frequency,
        sum(total_cents - refunded_cents) as monetary_cents
    from orders
    group by customer_id
),

scored as (
    select
        customers.customer_id,
        as_of.as_of_date,
        customers.last_order_date,
        datediff(as_of.as_of_date, customers.last_order_date) as recency_days,
        customers.frequency,
        customers.monetary_cents,
        least(5, 1 + cast(floor(percent_rank() over (
            order by datediff(as_of.as_of_date, customers.last_order_date) desc
        ) * 5) as int)) as r_score,
        least(5, 1 + cast(floor(percent_rank() over (
            order by customers.frequency
        ) * 5) as int)) as f_score,
        least(5, 1 + cast(floor(percent_rank() over (
            order by customers.monetary_cents
        ) * 5) as int)) as m_score
    from customers
    cross join as_of
),

final as (
    select
        scored.customer_id,
        scored.as_of_date,
        scored.last_order_date,
        scored.recency_days,
        scored.frequency,
        scored.monetary_cents,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        concat(scored.r_score, scored.f_score, scored.m_score) as rfm_score,
        segments.segment
    from scored
    left join segments
        on scored.r_score = segments.r_score and scored.f_score = segments.f_score
)

select * from final
