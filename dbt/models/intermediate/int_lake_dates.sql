-- The days the lake covers: from the first fact to the last, for the calendar spines.
with

days as (
    select to_date(registered_at) as day from {{ ref('stg_silver__users') }}
    union all
    select order_date as day from {{ ref('stg_silver__orders') }}
    union all
    select event_date as day from {{ ref('stg_silver__inventory_movements') }}
    union all
    select event_date as day from {{ ref('stg_silver__product_views') }}
),

final as (
    select
        min(day) as first_day,
        max(day) as last_day
    from days
)

select * from final
