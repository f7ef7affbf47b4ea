-- Confirmed sales by day × category × brand × country. Net is after every discount, the
-- order's own discount allocated to its lines, so the net of a day adds up to its orders'
-- totals. An order with lines in two categories counts once in each (orders, AOV).
with

lines as (
    select * from {{ ref('fct_order_lines') }}
    where is_confirmed
),

grouped as (
    select
        order_date,
        coalesce(category, 'unknown') as category,
        coalesce(brand, 'unknown') as brand,
        coalesce(ship_to_country, 'unknown') as country,
        count(distinct order_id) as orders,
        sum(quantity) as units,
        sum(gross_cents) as gross_cents,
        sum(gross_cents - net_cents) as discount_cents,
        sum(net_cents) as net_cents
    from lines
    group by order_date, category, brand, ship_to_country
),

final as (
    select
        concat_ws('|', cast(order_date as string), category, brand, country) as sales_key,
        order_date,
        category,
        brand,
        country,
        orders,
        units,
        gross_cents,
        discount_cents,
        net_cents,
        {{ cents_per('net_cents', 'orders') }} as avg_order_value_cents
    from grouped
)

select * from final
