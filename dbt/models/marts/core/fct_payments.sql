{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key='payment_event_id',
) }}
-- Every payment outcome, once: an immutable fact per event.
with

payments as (
    select * from {{ ref('stg_silver__payments') }}
),

final as (
    select
        payment_event_id,
        payment_id,
        order_id,
        status,
        amount_cents,
        revenue_cents,
        currency,
        gateway,
        reason,
        event_time,
        event_date
    from payments
    {% if is_incremental() %}
        where event_time >= {{ incremental_since('event_time') }}
    {% endif %}
)

select * from final
