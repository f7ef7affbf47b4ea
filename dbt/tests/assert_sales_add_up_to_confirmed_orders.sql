-- Daily sales over every category, brand and country are the day's confirmed orders.
with

sales as (
    select
        order_date,
        sum(net_cents) as net_cents
    from {{ ref('sales_daily') }}
    group by order_date
),

orders as (
    select
        order_date,
        sum(total_cents - shipping_cents) as net_cents
    from {{ ref('fct_orders') }}
    where is_confirmed and line_count > 0
    group by order_date
)

select
    coalesce(sales.order_date, orders.order_date) as order_date,
    sales.net_cents as sales_net_cents,
    orders.net_cents as orders_net_cents
from sales
full outer join orders on sales.order_date = orders.order_date
where coalesce(sales.net_cents, 0) != coalesce(orders.net_cents, 0)
