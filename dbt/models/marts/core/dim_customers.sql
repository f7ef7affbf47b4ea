with

users as (
    select * from {{ ref('stg_silver__users') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

countries as (
    select * from {{ ref('countries') }}
),

order_totals as (
    select
        customer_id,
        min(case when is_confirmed then placed_at end) as first_order_at,
        max(case when is_confirmed then placed_at end) as last_order_at,
        count(*) as order_count,
        sum(case when is_confirmed then 1 else 0 end) as paid_order_count,
        sum(net_revenue_cents) as lifetime_net_revenue_cents
    from orders
    where customer_id is not null
    group by customer_id
),

-- Every registered user, and any customer who ordered without a registration in the lake.
customers as (
    select customer_id from users
    union
    select customer_id from order_totals
),

final as (
    select
        customers.customer_id,
        users.email_sha256,
        users.country,
        countries.country_name,
        countries.region,
        users.registered_at,
        trunc(order_totals.first_order_at, 'MM') as cohort_month,
        order_totals.first_order_at,
        order_totals.last_order_at,
        coalesce(order_totals.order_count, 0) as order_count,
        coalesce(order_totals.paid_order_count, 0) as paid_order_count,
        coalesce(order_totals.lifetime_net_revenue_cents, 0) as lifetime_net_revenue_cents,
        coalesce(order_totals.paid_order_count, 0) > 0 as is_buyer
    from customers
    left join users on customers.customer_id = users.customer_id
    left join order_totals on customers.customer_id = order_totals.customer_id
    left join countries on users.country = countries.country_code
)

select * from final
