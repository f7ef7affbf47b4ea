with

source as (
    select * from {{ source('silver', 'recommendation_clicks') }}
),

renamed as (
    select
        event_id as click_id,
        session_id,
        user_id as customer_id,
        sku,
        slot,
        placement,
        coalesce(model_version, 'unknown') as model_version,
        event_time,
        event_date
    from source
)

select * from renamed
