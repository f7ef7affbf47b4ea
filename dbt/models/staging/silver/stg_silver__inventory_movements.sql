with

source as (
    select * from {{ source('silver', 'inventory_movements') }}
),

renamed as (
    select
        event_id as movement_id,
        sku,
        warehouse_id,
        movement,
        quantity,
        on_hand_delta,
        reserved_delta,
        on_hand,
        reserved,
        on_hand - reserved as available,
        order_id,
        reason,
        reference,
        event_time,
        event_date
    from source
)

select * from renamed
