{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key='order_line_id',
) }}
-- One row per order line; lines of the orders an event touched are recomputed and merged.
with

lines as (
    select * from {{ ref('int_order_lines_enriched') }}
),

final as (
    select
        order_line_id,
        order_id,
        line_number,
        sku,
        customer_id,
        order_date,
        order_status,
        is_confirmed,
        quantity,
        unit_price_cents,
        gross_cents,
        discount_cents,
        line_total_cents,
        allocated_order_discount_cents,
        net_cents,
        currency,
        category,
        subcategory,
        brand,
        ship_to_country,
        order_updated_at
    from lines
    {% if is_incremental() %}
        where order_updated_at >= {{ incremental_since('order_updated_at') }}
    {% endif %}
)

select * from final
