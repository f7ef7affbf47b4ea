-- Order lines with their order, their product, and their share of the order's own discount
-- (a coupon on the whole cart), allocated pro rata to the line totals: the rounding remainder
-- goes to the last line, so the lines of an order always add up to its total.
with

lines as (
    select * from {{ ref('stg_silver__order_items') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

products as (
    select * from {{ ref('stg_silver__products') }}
),

with_order as (
    select
        lines.*,
        orders.order_date,
        orders.status as order_status,
        orders.is_confirmed,
        orders.ship_to_country,
        orders.updated_at as order_updated_at,
        greatest(
            orders.discount_cents
            - sum(lines.discount_cents) over (partition by lines.order_id),
            0
        ) as order_discount_cents,
        sum(lines.line_total_cents) over (partition by lines.order_id) as order_lines_cents,
        row_number() over (partition by lines.order_id order by lines.line_number desc)
            as from_last
    from lines
    inner join orders on lines.order_id = orders.order_id
),

allocated as (
    select
        *,
        case
            when order_lines_cents = 0 then 0
            else cast(floor(order_discount_cents * line_total_cents / order_lines_cents) as bigint)
        end as pro_rata_cents
    from with_order
),

final as (
    select
        allocated.order_line_id,
        allocated.order_id,
        allocated.line_number,
        allocated.sku,
        allocated.customer_id,
        allocated.order_date,
        allocated.order_status,
        allocated.is_confirmed,
        allocated.quantity,
        allocated.unit_price_cents,
        allocated.discount_cents,
        allocated.line_total_cents,
        allocated.currency,
        products.category,
        products.subcategory,
        products.brand,
        allocated.ship_to_country,
        allocated.placed_at,
        allocated.order_updated_at,
        cast(allocated.quantity as bigint) * allocated.unit_price_cents as gross_cents,
        allocated.pro_rata_cents + case
            when allocated.from_last = 1
                then
                    allocated.order_discount_cents
                    - sum(allocated.pro_rata_cents) over (partition by allocated.order_id)
            else 0
        end as allocated_order_discount_cents
    from allocated
    left join products on allocated.sku = products.sku
)

select
    *,
    line_total_cents - allocated_order_discount_cents as net_cents
from final
