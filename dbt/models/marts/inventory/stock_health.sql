-- Stock per product over every warehouse, as of the lake's last day: what is left, how many
-- days it covers at the last four weeks' pace, how often it ran out, how fast it sells.
with

days as (
    select * from {{ ref('int_sku_days') }}
),

as_of as (
    select last_day as as_of_date from {{ ref('int_lake_dates') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

current_levels as (
    select
        sku,
        sum(on_hand) as on_hand,
        sum(reserved) as reserved,
        sum(available) as available
    from (
        select
            sku,
            warehouse_id,
            max_by(on_hand, struct(event_time, movement_id)) as on_hand,
            max_by(reserved, struct(event_time, movement_id)) as reserved,
            max_by(available, struct(event_time, movement_id)) as available
        from {{ ref('fct_inventory_movements') }}
        group by sku, warehouse_id
    ) as per_warehouse
    group by sku
),

movement_dates as (
    select
        sku,
        max(case when movement = 'RECEIVED' then event_time end) as last_received_at
    from {{ ref('fct_inventory_movements') }}
    group by sku
),

sales as (
    select
        sold.sku,
        sum(
            case
                when sold.order_date > date_sub(as_of.as_of_date, 28) then sold.quantity
                else 0
            end
        ) as units_sold_28d,
        max(orders.placed_at) as last_sold_at
    from {{ ref('fct_order_lines') }} as sold
    inner join {{ ref('fct_orders') }} as orders on sold.order_id = orders.order_id
    cross join as_of
    where sold.is_confirmed
    group by sold.sku
),

stockouts as (
    select
        days.sku,
        count_if(days.available_end = 0) as stockout_days_90d
    from days
    cross join as_of
    where days.date_day > date_sub(as_of.as_of_date, 90)
    group by days.sku
),

joined as (
    select
        current_levels.sku,
        products.category,
        products.brand,
        current_levels.on_hand,
        current_levels.reserved,
        current_levels.available,
        coalesce(sales.units_sold_28d, 0) as units_sold_28d,
        coalesce(sales.units_sold_28d, 0) / 28.0 as avg_daily_units_28d,
        cast(coalesce(stockouts.stockout_days_90d, 0) as int) as stockout_days_90d,
        sales.last_sold_at,
        movement_dates.last_received_at
    from current_levels
    left join products on current_levels.sku = products.sku
    left join sales on current_levels.sku = sales.sku
    left join stockouts on current_levels.sku = stockouts.sku
    left join movement_dates on current_levels.sku = movement_dates.sku
),

final as (
    select
        sku,
        category,
        brand,
        on_hand,
        reserved,
        available,
        units_sold_28d,
        cast(avg_daily_units_28d as double) as avg_daily_units_28d,
        {{ ratio('available', 'avg_daily_units_28d') }} as days_of_cover,
        stockout_days_90d,
        {{ ratio('units_sold_28d', 'units_sold_28d + on_hand') }} as sell_through_28d,
        last_sold_at,
        last_received_at,
        -- Stock that did not sell for four weeks.
        on_hand > 0 and units_sold_28d = 0 as is_slow_mover,
        case
            when available <= 0 then 'out'
            when units_sold_28d = 0 then 'no recent sales'
            when available / avg_daily_units_28d < 7 then 'low'
            when available / avg_daily_units_28d > 90 then 'overstock'
            else 'ok'
        end as stock_status
    from joined
)

select * from final
