{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key='session_id',
) }}
-- One row per session (see int_sessionised_events). Sessions never cross midnight, so an
-- incremental build recomputes whole days: the last few before the newest session.
with

events as (
    select * from {{ ref('int_sessionised_events') }}
    {% if is_incremental() %}
        where event_date >= (
            select date_sub(max(existing.session_date), {{ var('incremental_lookback_days') }})
            from {{ this }} as existing
        )
    {% endif %}
),

paid_orders as (
    select order_id from {{ ref('int_orders_enriched') }}
    where is_confirmed
),

sessions as (
    select
        events.session_id,
        max(events.visitor_id) as visitor_id,
        max(events.customer_id) as customer_id,
        min(events.event_date) as session_date,
        min(events.event_time) as started_at,
        max(events.event_time) as ended_at,
        count(*) as events,
        count_if(events.event_kind = 'view') as product_views,
        count_if(events.event_kind = 'search') as searches,
        count_if(events.event_kind = 'recommendation_click') as recommendation_clicks,
        count_if(events.event_kind = 'cart_add') as cart_adds,
        count_if(events.event_kind = 'checkout') as checkouts,
        count(distinct paid_orders.order_id) as paid_orders,
        min_by(events.event_kind, struct(events.event_time, events.event_id)) as landing_event
    from events
    left join paid_orders on events.order_id = paid_orders.order_id
    group by events.session_id
),

final as (
    select
        session_id,
        visitor_id,
        customer_id,
        customer_id is null as is_anonymous,
        session_date,
        started_at,
        ended_at,
        unix_timestamp(ended_at) - unix_timestamp(started_at) as duration_seconds,
        cast(events as int) as events,
        cast(product_views as int) as product_views,
        cast(searches as int) as searches,
        cast(recommendation_clicks as int) as recommendation_clicks,
        cast(cart_adds as int) as cart_adds,
        cast(checkouts as int) as checkouts,
        cast(paid_orders as int) as paid_orders,
        product_views > 0 as has_view,
        cart_adds > 0 as has_cart,
        checkouts > 0 as has_checkout,
        paid_orders > 0 as has_paid,
        landing_event
    from sessions
)

select * from final
