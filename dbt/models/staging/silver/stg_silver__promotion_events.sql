with

source as (
    select * from {{ source('silver', 'promotion_events') }}
),

renamed as (
    select
        event_id as promotion_event_id,
        promotion_id,
        action,
        name,
        kind,
        value,
        currency,
        scope,
        scope_values,
        starts_at,
        ends_at,
        coupon_code,
        usage_limit,
        stackable,
        priority,
        active,
        event_time
    from source
)

select * from renamed
