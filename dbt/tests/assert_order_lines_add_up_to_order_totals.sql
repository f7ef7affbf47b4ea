-- The money rule the marts rely on: the net of an order's lines is the order's total (shipping
-- aside), so sales by any grain add up to what was ordered. Rows are the orders that break it.
with

lines as (
    select
        order_id,
        sum(net_cents) as lines_net_cents
    from {{ ref('fct_order_lines') }}
    group by order_id
)

select
    orders.order_id,
    orders.total_cents,
    orders.shipping_cents,
    lines.lines_net_cents
from {{ ref('fct_orders') }} as orders
inner join lines on orders.order_id = lines.order_id
where orders.total_cents - orders.shipping_cents != lines.lines_net_cents
