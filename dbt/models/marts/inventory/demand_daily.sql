-- Per product and day: the demand (paid units ordered), the attention (views, cart adds),
-- the price asked and paid, whether a promotion covered it, and the stock, with the days a
-- warehouse ran out (demand on those days is censored: what could not be bought is missing).
-- The forecasting models read this table.
with

days as (
    select * from {{ ref('int_sku_days') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

ordered as (
    select
        sku,
        order_date as date_day,
        sum(quantity) as units_ordered,
        count(distinct order_id) as orders,
        sum(line_total_cents) as paid_cents,
        sum(discount_cents) as discount_cents
    from {{ ref('fct_order_lines') }}
    where is_confirmed
    group by sku, order_date
),

viewed as (
    select
        sku,
        event_date as date_day,
        count(*) as views
    from {{ ref('stg_silver__product_views') }}
    group by sku, event_date
),

carted as (
    select
        sku,
        event_date as date_day,
        sum(quantity) as cart_adds
    from {{ ref('stg_silver__cart_events') }}
    where action = 'ADD'
    group by sku, event_date
),

promoted as (
    select distinct
        products.sku,
        promo_days.date_day
    from (
        -- One generator per select: the scope values first, then the days.
        select
            scope,
            scope_value,
            explode(sequence(to_date(starts_at), date_sub(to_date(ends_at), 1), interval 1 day))
                as date_day
        from (
            select
                scope,
                starts_at,
                ends_at,
                explode(scope_values) as scope_value
            from {{ ref('int_promotions') }}
            where scope != 'cart' and active and to_date(ends_at) > to_date(starts_at)
        ) as scoped
    ) as promo_days
    inner join products
        on
            (promo_days.scope = 'sku' and promo_days.scope_value = products.sku)
            or (
                promo_days.scope = 'category'
                and (
                    promo_days.scope_value = products.category_path
                    or startswith(products.category_path, concat(promo_days.scope_value, '/'))
                )
            )
),

final as (
    select
        concat_ws('|', days.sku, cast(days.date_day as string)) as demand_key,
        days.sku,
        days.date_day,
        products.category,
        products.brand,
        coalesce(ordered.units_ordered, 0) as units_ordered,
        coalesce(ordered.orders, 0) as orders,
        coalesce(viewed.views, 0) as views,
        coalesce(carted.cart_adds, 0) as cart_adds,
        days.list_price_cents,
        {{ cents_per('ordered.paid_cents', 'ordered.units_ordered') }} as avg_paid_price_cents,
        coalesce(ordered.discount_cents, 0) as discount_cents,
        promoted.sku is not null as promotion_active,
        days.on_hand_end,
        days.available_end,
        days.available_end = 0 or days.out_of_stock_events > 0 as stocked_out
    from days
    left join products on days.sku = products.sku
    left join ordered on days.sku = ordered.sku and days.date_day = ordered.date_day
    left join viewed on days.sku = viewed.sku and days.date_day = viewed.date_day
    left join carted on days.sku = carted.sku and days.date_day = carted.date_day
    left join promoted on days.sku = promoted.sku and days.date_day = promoted.date_day
)

select * from final
