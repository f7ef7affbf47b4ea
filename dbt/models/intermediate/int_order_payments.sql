-- What the payments of each order moved: authorized, captured, refunded, and the net.
with

payments as (
    select * from {{ ref('stg_silver__payments') }}
),

final as (
    select
        order_id,
        sum(case when status = 'AUTHORIZED' then amount_cents else 0 end) as authorized_cents,
        sum(case when status = 'CAPTURED' then amount_cents else 0 end) as captured_cents,
        sum(case when status = 'REFUNDED' then amount_cents else 0 end) as refunded_cents,
        sum(revenue_cents) as net_revenue_cents,
        max(event_time) as last_payment_at
    from payments
    group by order_id
)

select * from final
