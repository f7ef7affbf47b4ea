with

source as (
    select * from {{ source('silver', 'cart_events') }}
),

renamed as (
    select
        event_id as cart_event_id,
        cart_id,
        user_id as customer_id,
        action,
        sku,
        quantity,
        unit_price_cents,
        currency,
        order_id,
        item_count,
        event_time,
        event_date
    from source
)

select * from renamed
