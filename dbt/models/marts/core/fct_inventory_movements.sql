{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key='movement_id',
) }}
-- Every stock movement, once, with the level it left.
with

movements as (
    select * from {{ ref('stg_silver__inventory_movements') }}
),

final as (
    select
        movement_id,
        sku,
        warehouse_id,
        movement,
        quantity,
        on_hand_delta,
        reserved_delta,
        on_hand,
        reserved,
        available,
        order_id,
        reason,
        event_time,
        event_date
    from movements
    {% if is_incremental() %}
        where event_time >= {{ incremental_since('event_time') }}
    {% endif %}
)

select * from final
