with

source as (
    select * from {{ source('silver', 'order_items') }}
),

renamed as (
    select
        concat(order_id, '-', cast(line_number as string)) as order_line_id,
        order_id,
        line_number,
        sku,
        quantity,
        unit_price_cents,
        discount_cents,
        line_total_cents,
        currency,
        user_id as customer_id,
        event_time as placed_at
    from source
)

select * from renamed
