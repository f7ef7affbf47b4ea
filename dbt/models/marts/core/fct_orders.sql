{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key='order_id',
) }}
-- One row per order. Incremental: the orders an event touched since shortly before the newest
-- row are recomputed whole and merged.
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.order_date,
        orders.placed_at,
        orders.status,
        orders.currency,
        orders.line_count,
        orders.units,
        orders.subtotal_cents,
        orders.discount_cents,
        orders.shipping_cents,
        orders.total_cents,
        orders.ship_to_country,
        orders.is_confirmed,
        orders.authorized_cents,
        orders.captured_cents,
        orders.refunded_cents,
        orders.net_revenue_cents,
        orders.confirmed_at,
        orders.cancelled_at,
        orders.updated_at
    from orders
    {% if is_incremental() %}
        -- updated_at moves with every order event and every payment of the order.
        where orders.updated_at >= {{ incremental_since('updated_at') }}
    {% endif %}
)

select * from final
