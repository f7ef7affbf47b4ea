-- What the price history snapshot watches: each product's list price now.
with

products as (
    select * from {{ ref('stg_silver__products') }}
),

final as (
    select
        sku,
        price_cents,
        currency,
        updated_at
    from products
)

select * from final
