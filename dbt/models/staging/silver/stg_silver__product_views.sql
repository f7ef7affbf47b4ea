with

source as (
    select * from {{ source('silver', 'product_views') }}
),

renamed as (
    select
        event_id as view_id,
        session_id,
        user_id as customer_id,
        channel,
        sku,
        referrer,
        event_time,
        event_date
    from source
)

select * from renamed
