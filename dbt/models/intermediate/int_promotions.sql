-- Each promotion as it stands after its latest change; deleted ones are gone.
with

changes as (
    select * from {{ ref('stg_silver__promotion_events') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by promotion_id order by event_time desc, promotion_event_id desc
        ) as newest_first
    from changes
),

final as (
    select
        promotion_id,
        name,
        kind,
        value,
        scope,
        scope_values,
        starts_at,
        ends_at,
        coupon_code,
        active,
        event_time as changed_at
    from latest
    where newest_first = 1 and action != 'DELETED'
)

select * from final
