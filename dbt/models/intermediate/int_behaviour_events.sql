-- Everything a visitor did, in one stream: views, searches, recommendation clicks, and the cart
-- changes and checkouts of signed-in shoppers. A visitor is the shopper, or the anonymous
-- client session.
with

views as (
    select
        view_id as event_id,
        coalesce(customer_id, concat('anonymous:', session_id)) as visitor_id,
        customer_id,
        'view' as event_kind,
        sku,
        cast(null as string) as query,
        cast(null as string) as order_id,
        event_time,
        event_date
    from {{ ref('stg_silver__product_views') }}
),

searches as (
    select
        search_id as event_id,
        coalesce(customer_id, concat('anonymous:', session_id)) as visitor_id,
        customer_id,
        'search' as event_kind,
        cast(null as string) as sku,
        query_normalised as query,
        cast(null as string) as order_id,
        event_time,
        event_date
    from {{ ref('stg_silver__searches') }}
),

clicks as (
    select
        click_id as event_id,
        coalesce(customer_id, concat('anonymous:', session_id)) as visitor_id,
        customer_id,
        'recommendation_click' as event_kind,
        sku,
        cast(null as string) as query,
        cast(null as string) as order_id,
        event_time,
        event_date
    from {{ ref('stg_silver__recommendation_clicks') }}
),

carts as (
    select
        cart_event_id as event_id,
        customer_id as visitor_id,
        customer_id,
        case action
            when 'ADD' then 'cart_add'
            when 'REMOVE' then 'cart_remove'
            else 'checkout'
        end as event_kind,
        sku,
        cast(null as string) as query,
        order_id,
        event_time,
        event_date
    from {{ ref('stg_silver__cart_events') }}
    -- An anonymous cart cannot be tied to the client session that filled it.
    where customer_id is not null
),

final as (
    select * from views
    union all
    select * from searches
    union all
    select * from clicks
    union all
    select * from carts
)

select * from final
