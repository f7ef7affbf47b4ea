-- Monthly cohorts by first paid order: of the customers who first bought in a month, the share
-- who bought again N months later (N = 0 is the cohort itself), and what they spent.
with

orders as (
    select
        customer_id,
        trunc(order_date, 'MM') as order_month,
        total_cents - refunded_cents as net_cents
    from {{ ref('fct_orders') }}
    where is_confirmed and customer_id is not null
),

firsts as (
    select
        customer_id,
        min(order_month) as cohort_month
    from orders
    group by customer_id
),

activity as (
    select
        firsts.cohort_month,
        orders.customer_id,
        orders.net_cents,
        cast(months_between(orders.order_month, firsts.cohort_month) as int) as months_since_first
    from orders
    inner join firsts on orders.customer_id = firsts.customer_id
),

cohort_sizes as (
    select
        cohort_month,
        count(*) as cohort_customers
    from firsts
    group by cohort_month
),

cells as (
    select
        cohort_month,
        months_since_first,
        count(distinct customer_id) as active_customers,
        sum(net_cents) as net_revenue_cents
    from activity
    group by cohort_month, months_since_first
),

final as (
    select
        concat_ws('|', cast(cells.cohort_month as string), cast(cells.months_since_first as string))
            as cohort_key,
        cells.cohort_month,
        cells.months_since_first,
        cohort_sizes.cohort_customers,
        cells.active_customers,
        {{ ratio('cells.active_customers', 'cohort_sizes.cohort_customers') }} as retention_rate,
        cells.net_revenue_cents
    from cells
    inner join cohort_sizes on cells.cohort_month = cohort_sizes.cohort_month
)

select * from final
