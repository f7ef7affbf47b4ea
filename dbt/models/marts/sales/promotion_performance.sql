-- What each promotion cost and sold: redemptions (orders it discounted), units and net sales
-- in scope while it ran, the discount given, and the lift of daily units in scope over the
-- four weeks before it started. A line two promotions discounted counts for both; a cart
-- promotion (a coupon) counts the orders whose own discount it explains.
with

promotions as (
    select * from {{ ref('int_promotions') }}
),

lines as (
    select * from {{ ref('fct_order_lines') }}
    where is_confirmed
),

products as (
    select
        sku,
        category_path
    from {{ ref('dim_products') }}
),

last_day as (
    select last_day from {{ ref('int_lake_dates') }}
),

scopes as (
    select
        promotion_id,
        scope,
        explode(scope_values) as scope_value
    from promotions
    where scope != 'cart'
),

in_scope as (
    -- Every confirmed line of a product the promotion covers, whenever it was sold.
    select distinct
        scopes.promotion_id,
        lines.order_line_id,
        lines.order_id,
        lines.order_date,
        lines.quantity,
        lines.discount_cents,
        lines.line_total_cents
    from scopes
    inner join products
        on
            (scopes.scope = 'sku' and scopes.scope_value = products.sku)
            or (
                scopes.scope = 'category'
                and (
                    scopes.scope_value = products.category_path
                    or startswith(products.category_path, concat(scopes.scope_value, '/'))
                )
            )
    inner join lines on products.sku = lines.sku
),

line_results as (
    select
        promotions.promotion_id,
        count(
            distinct case
                when
                    in_scope.order_date >= to_date(promotions.starts_at)
                    and in_scope.order_date < to_date(promotions.ends_at)
                    and in_scope.discount_cents > 0
                    then in_scope.order_id
            end
        ) as redemptions,
        sum(
            case
                when
                    in_scope.order_date >= to_date(promotions.starts_at)
                    and in_scope.order_date < to_date(promotions.ends_at)
                    then in_scope.quantity
                else 0
            end
        ) as units,
        sum(
            case
                when
                    in_scope.order_date >= to_date(promotions.starts_at)
                    and in_scope.order_date < to_date(promotions.ends_at)
                    then in_scope.discount_cents
                else 0
            end
        ) as discount_cost_cents,
        sum(
            case
                when
                    in_scope.order_date >= to_date(promotions.starts_at)
                    and in_scope.order_date < to_date(promotions.ends_at)
                    then in_scope.line_total_cents
                else 0
            end
        ) as net_sales_cents,
        sum(
            case
                when
                    in_scope.order_date >= date_sub(to_date(promotions.starts_at), 28)
                    and in_scope.order_date < to_date(promotions.starts_at)
                    then in_scope.quantity
                else 0
            end
        ) as baseline_units
    from promotions
    inner join in_scope on promotions.promotion_id = in_scope.promotion_id
    group by promotions.promotion_id
),

line_discounts as (
    select
        order_id,
        sum(discount_cents) as cents
    from lines
    group by order_id
),

cart_orders as (
    -- The orders with a discount of their own (beyond their lines'): a cart promotion's.
    select
        orders.order_id,
        orders.order_date,
        orders.units,
        orders.total_cents,
        orders.discount_cents - coalesce(line_discounts.cents, 0) as order_discount_cents
    from {{ ref('fct_orders') }} as orders
    left join line_discounts on orders.order_id = line_discounts.order_id
    where orders.is_confirmed
),

cart_results as (
    select
        promotions.promotion_id,
        count(distinct cart_orders.order_id) as redemptions,
        sum(cart_orders.units) as units,
        sum(cart_orders.order_discount_cents) as discount_cost_cents,
        sum(cart_orders.total_cents) as net_sales_cents,
        cast(null as bigint) as baseline_units
    from promotions
    inner join cart_orders
        on
            cart_orders.order_date >= to_date(promotions.starts_at)
            and cart_orders.order_date < to_date(promotions.ends_at)
            and cart_orders.order_discount_cents > 0
    where promotions.scope = 'cart'
    group by promotions.promotion_id
),

results as (
    select * from line_results
    union all
    select * from cart_results
),

final as (
    select
        promotions.promotion_id,
        promotions.name,
        promotions.kind,
        promotions.value,
        promotions.scope,
        array_join(promotions.scope_values, ',') as scope_values,
        promotions.starts_at,
        promotions.ends_at,
        promotions.active as is_active,
        greatest(
            0,
            datediff(
                least(to_date(promotions.ends_at), date_add(last_day.last_day, 1)),
                to_date(promotions.starts_at)
            )
        ) as days_running,
        coalesce(results.redemptions, 0) as redemptions,
        coalesce(results.units, 0) as units,
        coalesce(results.discount_cost_cents, 0) as discount_cost_cents,
        coalesce(results.net_sales_cents, 0) as net_sales_cents,
        results.baseline_units
    from promotions
    cross join last_day
    left join results on promotions.promotion_id = results.promotion_id
)

select
    promotion_id,
    name,
    kind,
    value,
    scope,
    scope_values,
    starts_at,
    ends_at,
    is_active,
    days_running,
    redemptions,
    units,
    discount_cost_cents,
    net_sales_cents,
    cast(baseline_units / 28.0 as double) as baseline_daily_units,
    {{ ratio('units', 'days_running') }} as promo_daily_units,
    try_divide({{ ratio('units', 'days_running') }}, baseline_units / 28.0) - 1 as lift
from final
