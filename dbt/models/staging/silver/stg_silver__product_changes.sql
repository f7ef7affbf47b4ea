with

source as (
    select * from {{ source('silver', 'product_changes') }}
),

renamed as (
    select
        event_id as product_change_id,
        sku,
        version,
        event_type,
        price_cents,
        old_price_cents,
        currency,
        status,
        event_time,
        event_date
    from source
)

select * from renamed
