with

source as (
    select * from {{ source('silver', 'orders') }}
),

renamed as (
    select
        order_id,
        user_id as customer_id,
        status,
        currency,
        ship_to_country,
        line_count,
        placed_at,
        confirmed_at,
        cancelled_at,
        cancel_reason,
        updated_at,
        coalesce(subtotal_cents, 0) as subtotal_cents,
        coalesce(discount_cents, 0) as discount_cents,
        coalesce(shipping_cents, 0) as shipping_cents,
        coalesce(total_cents, 0) as total_cents,
        to_date(coalesce(placed_at, updated_at)) as order_date
    from source
)

select * from renamed
