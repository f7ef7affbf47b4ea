-- Each search, and whether a product view or a cart add followed it in the same session.
with

events as (
    select * from {{ ref('int_sessionised_events') }}
),

marked as (
    select
        *,
        max(case when event_kind = 'view' then event_time end)
            over (partition by session_id) as last_view_at,
        max(case when event_kind = 'cart_add' then event_time end)
            over (partition by session_id) as last_cart_add_at
    from events
),

final as (
    select
        event_id as search_id,
        session_id,
        query,
        event_time,
        event_date,
        coalesce(last_view_at > event_time, false) as followed_by_view,
        coalesce(last_cart_add_at > event_time, false) as followed_by_cart_add
    from marked
    where event_kind = 'search'
)

select * from final
