with

source as (
    select * from {{ source('silver', 'payments') }}
),

renamed as (
    select
        event_id as payment_event_id,
        payment_id,
        order_id,
        status,
        amount_cents,
        currency,
        gateway,
        reason,
        event_time,
        event_date,
        -- What the payment did to revenue: money taken, money given back, or nothing.
        case status
            when 'CAPTURED' then amount_cents
            when 'REFUNDED' then -amount_cents
            else 0
        end as revenue_cents
    from source
)

select * from renamed
