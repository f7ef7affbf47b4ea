{{ config(
    materialized='table',
    location_root=env_var('DBT_SHOPLAKE_LAKE_ROOT') ~ '/_dbt/intermediate',
) }}
-- One row per product and day from its first stock movement: the list price in force, the
-- stock at the end of the day over every warehouse, and whether a warehouse ran out.
with

dates as (
    select explode(sequence(first_day, last_day, interval 1 day)) as date_day
    from {{ ref('int_lake_dates') }}
),

movements as (
    select * from {{ ref('stg_silver__inventory_movements') }}
),

levels_by_day as (
    -- Each warehouse's level after its last movement of the day.
    select
        sku,
        warehouse_id,
        event_date as date_day,
        max_by(on_hand, struct(event_time, movement_id)) as on_hand,
        max_by(available, struct(event_time, movement_id)) as available,
        sum(case when movement = 'OUT_OF_STOCK' then 1 else 0 end) as out_of_stock_events,
        sum(case when movement = 'RECEIVED' then quantity else 0 end) as received_units
    from movements
    group by sku, warehouse_id, event_date
),

warehouse_days as (
    select
        first_seen.sku,
        first_seen.warehouse_id,
        dates.date_day
    from (
        select
            sku,
            warehouse_id,
            min(date_day) as first_day
        from levels_by_day
        group by sku, warehouse_id
    ) as first_seen
    inner join dates on first_seen.first_day <= dates.date_day
),

carried as (
    -- Days without a movement keep the level of the last day that had one.
    select
        warehouse_days.sku,
        warehouse_days.date_day,
        last(levels_by_day.on_hand, true) over (
            partition by warehouse_days.sku, warehouse_days.warehouse_id
            order by warehouse_days.date_day
            rows between unbounded preceding and current row
        ) as on_hand,
        last(levels_by_day.available, true) over (
            partition by warehouse_days.sku, warehouse_days.warehouse_id
            order by warehouse_days.date_day
            rows between unbounded preceding and current row
        ) as available,
        coalesce(levels_by_day.out_of_stock_events, 0) as out_of_stock_events,
        coalesce(levels_by_day.received_units, 0) as received_units
    from warehouse_days
    left join levels_by_day
        on
            warehouse_days.sku = levels_by_day.sku
            and warehouse_days.warehouse_id = levels_by_day.warehouse_id
            and warehouse_days.date_day = levels_by_day.date_day
),

stock as (
    select
        sku,
        date_day,
        sum(on_hand) as on_hand_end,
        sum(available) as available_end,
        sum(out_of_stock_events) as out_of_stock_events,
        sum(received_units) as received_units
    from carried
    group by sku, date_day
),

price_changes as (
    select
        sku,
        event_date as date_day,
        max_by(price_cents, struct(event_time, version)) as price_cents
    from {{ ref('stg_silver__product_changes') }}
    where price_cents is not null
    group by sku, event_date
),

first_prices as (
    select
        sku,
        min(date_day) as first_day
    from price_changes
    group by sku
),

prices as (
    -- The list price in force each day, from the product's first price on.
    select
        firsts.sku,
        dates.date_day,
        last(price_changes.price_cents, true) over (
            partition by firsts.sku
            order by dates.date_day
            rows between unbounded preceding and current row
        ) as list_price_cents
    from first_prices as firsts
    inner join dates on firsts.first_day <= dates.date_day
    left join price_changes
        on firsts.sku = price_changes.sku and dates.date_day = price_changes.date_day
),

final as (
    select
        stock.sku,
        stock.date_day,
        stock.on_hand_end,
        stock.available_end,
        stock.out_of_stock_events,
        stock.received_units,
        prices.list_price_cents
    from stock
    left join prices on stock.sku = prices.sku and stock.date_day = prices.date_day
)

select * from final
