-- Net revenue per order day, two ways: the marts (fct_orders: captured minus refunded per
-- order) against silver's own payments (captures minus refunds, read straight from the source),
-- to the cent. `shoplake gold test` adds the third leg, Postgres's payments ledger.
with

gold as (
    select
        order_date,
        count(*) as orders,
        sum(net_revenue_cents) as gold_net_revenue_cents
    from {{ ref('fct_orders') }}
    group by order_date
),

silver_payments as (
    select
        payments.order_id,
        to_date(coalesce(orders.placed_at, orders.updated_at, payments.event_time)) as order_date,
        case when payments.status = 'CAPTURED' then payments.amount_cents else 0 end
            as captured_cents,
        case when payments.status = 'REFUNDED' then payments.amount_cents else 0 end
            as refunded_cents
    from {{ source('silver', 'payments') }} as payments
    left join {{ source('silver', 'orders') }} as orders on payments.order_id = orders.order_id
),

silver as (
    select
        order_date,
        sum(captured_cents) as silver_captured_cents,
        sum(refunded_cents) as silver_refunded_cents
    from silver_payments
    group by order_date
),

final as (
    select
        coalesce(gold.order_date, silver.order_date) as order_date,
        coalesce(gold.orders, 0) as orders,
        coalesce(gold.gold_net_revenue_cents, 0) as gold_net_revenue_cents,
        coalesce(silver.silver_captured_cents, 0) as silver_captured_cents,
        coalesce(silver.silver_refunded_cents, 0) as silver_refunded_cents,
        coalesce(silver.silver_captured_cents, 0) - coalesce(silver.silver_refunded_cents, 0)
            as silver_net_revenue_cents
    from gold
    full outer join silver on gold.order_date = silver.order_date
)

select
    order_date,
    orders,
    gold_net_revenue_cents,
    silver_captured_cents,
    silver_refunded_cents,
    silver_net_revenue_cents,
    gold_net_revenue_cents - silver_net_revenue_cents as difference_cents,
    gold_net_revenue_cents = silver_net_revenue_cents as is_reconciled
from final
