-- Recommendations shown → clicked → bought, by day, placement and model version. A click is
-- bought when the same shopper orders the clicked product within a day of the click (and the
-- order is paid); impressions come with the recommendations issue's RecommendationShown.
with

impressions as (
    select
        event_date as date_day,
        placement,
        model_version,
        count(*) as impressions
    from {{ ref('stg_silver__recommendation_impressions') }}
    group by event_date, placement, model_version
),

clicks as (
    select * from {{ ref('stg_silver__recommendation_clicks') }}
),

lines as (
    select * from {{ ref('fct_order_lines') }}
    where is_confirmed
),

bought as (
    select
        clicks.click_id,
        max(lines.quantity) as units,
        max(lines.net_cents) as revenue_cents
    from clicks
    inner join lines
        on
            clicks.customer_id = lines.customer_id
            and clicks.sku = lines.sku
            and clicks.event_date <= lines.order_date
            and lines.order_date <= date_add(clicks.event_date, 1)
    group by clicks.click_id
),

click_results as (
    select
        clicks.event_date as date_day,
        clicks.placement,
        clicks.model_version,
        count(*) as clicks,
        count(bought.click_id) as purchases,
        coalesce(sum(bought.units), 0) as purchased_units,
        coalesce(sum(bought.revenue_cents), 0) as attributed_revenue_cents
    from clicks
    left join bought on clicks.click_id = bought.click_id
    group by clicks.event_date, clicks.placement, clicks.model_version
),

final as (
    select
        coalesce(impressions.date_day, click_results.date_day) as date_day,
        coalesce(impressions.placement, click_results.placement) as placement,
        coalesce(impressions.model_version, click_results.model_version) as model_version,
        coalesce(impressions.impressions, 0) as impressions,
        coalesce(click_results.clicks, 0) as clicks,
        coalesce(click_results.purchases, 0) as purchases,
        coalesce(click_results.purchased_units, 0) as purchased_units,
        coalesce(click_results.attributed_revenue_cents, 0) as attributed_revenue_cents
    from impressions
    full outer join click_results
        on
            impressions.date_day = click_results.date_day
            and impressions.placement = click_results.placement
            and impressions.model_version = click_results.model_version
)

select
    concat_ws('|', cast(date_day as string), placement, model_version) as recommendation_key,
    date_day,
    placement,
    model_version,
    impressions,
    clicks,
    {{ ratio('clicks', 'impressions') }} as click_through_rate,
    purchases,
    purchased_units,
    attributed_revenue_cents
from final
