with

source as (
    select * from {{ source('silver', 'products') }}
),

renamed as (
    select
        sku,
        version,
        name,
        brand,
        category_path,
        price_cents,
        currency,
        status,
        created_at,
        price_changed_at,
        discontinued_at,
        updated_at,
        -- A path may be one level deep (an imported product): no subcategory, not an error.
        try_element_at(category_path, 1) as category,
        try_element_at(category_path, 2) as subcategory,
        array_join(category_path, '/') as category_path_text
    from source
)

select * from renamed
