{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key='event_id',
    location_root=env_var('DBT_SHOPLAKE_LAKE_ROOT') ~ '/_dbt/intermediate',
) }}
-- Sessions: a visitor's events until {{ var('session_gap_minutes') }} minutes of silence, and
-- never across midnight (UTC), so that a day's sessions are final once the day is over and an
-- incremental build recomputes whole days (the last few before the newest event). A table:
-- the sessions and the search marts read it.
with

events as (
    select * from {{ ref('int_behaviour_events') }}
    {% if is_incremental() %}
        where event_date >= (
            select date_sub(max(existing.event_date), {{ var('incremental_lookback_days') }})
            from {{ this }} as existing
        )
    {% endif %}
),

gaps as (
    select
        *,
        unix_timestamp(event_time) - lag(unix_timestamp(event_time)) over (
            partition by visitor_id, event_date order by event_time, event_id
        ) as seconds_since_previous
    from events
),

numbered as (
    select
        *,
        sum(
            case
                when seconds_since_previous is null then 1
                when seconds_since_previous > {{ var('session_gap_minutes') }} * 60 then 1
                else 0
            end
        ) over (
            partition by visitor_id, event_date
            order by event_time, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from gaps
),

final as (
    select
        concat_ws('|', visitor_id, cast(event_date as string), cast(session_number as string))
            as session_id,
        event_id,
        visitor_id,
        customer_id,
        event_kind,
        sku,
        query,
        order_id,
        event_time,
        event_date
    from numbered
)

select * from final
