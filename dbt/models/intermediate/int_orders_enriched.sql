-- Orders with their units and the money their payments moved.
with

orders as (
    select * from {{ ref('stg_silver__orders') }}
),

payments as (
    select * from {{ ref('int_order_payments') }}
),

units as (
    select
        order_id,
        sum(quantity) as units
    from {{ ref('stg_silver__order_items') }}
    group by order_id
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
        orders.subtotal_cents,
        orders.discount_cents,
        orders.shipping_cents,
        orders.total_cents,
        orders.ship_to_country,
        orders.confirmed_at,
        orders.cancelled_at,
        -- Paid: the payment was authorized (whatever happened afterwards).
        orders.confirmed_at is not null as is_confirmed,
        coalesce(units.units, 0) as units,
        coalesce(payments.authorized_cents, 0) as authorized_cents,
        coalesce(payments.captured_cents, 0) as captured_cents,
        coalesce(payments.refunded_cents, 0) as refunded_cents,
        coalesce(payments.net_revenue_cents, 0) as net_revenue_cents,
        greatest(orders.updated_at, coalesce(payments.last_payment_at, orders.updated_at))
            as updated_at
    from orders
    left join payments on orders.order_id = payments.order_id
    left join units on orders.order_id = units.order_id
)

select * from final
