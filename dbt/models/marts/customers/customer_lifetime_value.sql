-- A simple lifetime value: what each buyer spent so far (paid orders, less refunds), and that
-- pace of orders and order value held for the next twelve months.
with

orders as (
    select * from {{ ref('fct_orders') }}
    where is_confirmed and customer_id is not null
),

as_of as (
    select last_day as as_of_date from {{ ref('int_lake_dates') }}
),

customers as (
    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as paid_orders,
        sum(total_cents - refunded_cents) as net_revenue_cents
    from orders
    group by customer_id
),

final as (
    select
        customers.customer_id,
        customers.first_order_date,
        customers.last_order_date,
        datediff(as_of.as_of_date, customers.first_order_date) as tenure_days,
        customers.paid_orders,
        customers.net_revenue_cents,
        {{ cents_per('customers.net_revenue_cents', 'customers.paid_orders') }}
            as avg_order_value_cents,
        -- A month at least, so a first order last week does not read as four a month.
        customers.paid_orders * 30.0
        / greatest(datediff(as_of.as_of_date, customers.first_order_date), 30)
            as orders_per_month
    from customers
    cross join as_of
)

select
    customer_id,
    first_order_date,
    last_order_date,
    tenure_days,
    paid_orders,
    net_revenue_cents,
    avg_order_value_cents,
    cast(orders_per_month as double) as orders_per_month,
    cast(round(avg_order_value_cents * orders_per_month * 12) as bigint)
        as projected_12m_revenue_cents
from final
