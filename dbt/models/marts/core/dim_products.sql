with

products as (
    select * from {{ ref('stg_silver__products') }}
),

sold as (
    select distinct sku from {{ ref('stg_silver__order_items') }}
),

-- Every product of the catalog, and any SKU that was sold without one in the lake.
skus as (
    select sku from products
    union
    select sku from sold
),

ranged as (
    select
        *,
        min(price_cents) over (partition by category) as category_min_cents,
        max(price_cents) over (partition by category) as category_max_cents
    from products
),

final as (
    select
        skus.sku,
        ranged.name,
        ranged.brand,
        ranged.category,
        ranged.subcategory,
        ranged.category_path_text as category_path,
        ranged.price_cents,
        ranged.currency,
        -- Thirds of the category's price range.
        case
            when ranged.price_cents is null then null
            when
                (ranged.price_cents - ranged.category_min_cents) * 3
                < ranged.category_max_cents - ranged.category_min_cents
                then 'budget'
            when
                (ranged.price_cents - ranged.category_min_cents) * 3
                < 2 * (ranged.category_max_cents - ranged.category_min_cents)
                then 'mid'
            else 'premium'
        end as price_band,
        ranged.status,
        ranged.created_at,
        ranged.discontinued_at,
        ranged.updated_at
    from skus
    left join ranged on skus.sku = ranged.sku
)

select * from final
