-- The conversion funnel by day: sessions → with a product view → with a cart add → with a
-- checkout → with a paid order. Each step is a share of all the day's sessions.
with

sessions as (
    select * from {{ ref('fct_sessions') }}
),

daily as (
    select
        session_date as date_day,
        count(*) as sessions,
        count_if(has_view) as view_sessions,
        count_if(has_cart) as cart_sessions,
        count_if(has_checkout) as checkout_sessions,
        count_if(has_paid) as paid_sessions,
        -- A checkout may empty a cart filled in an earlier session: abandonment is the share
        -- of sessions that filled a cart and did not check out.
        count_if(has_cart and not has_checkout) as abandoned_cart_sessions
    from sessions
    group by session_date
),

final as (
    select
        date_day,
        sessions,
        view_sessions,
        cart_sessions,
        checkout_sessions,
        paid_sessions,
        {{ ratio('view_sessions', 'sessions') }} as view_rate,
        {{ ratio('cart_sessions', 'sessions') }} as cart_rate,
        {{ ratio('checkout_sessions', 'sessions') }} as checkout_rate,
        {{ ratio('paid_sessions', 'sessions') }} as conversion_rate,
        {{ ratio('abandoned_cart_sessions', 'cart_sessions') }} as cart_abandonment_rate
    from daily
)

select * from final
