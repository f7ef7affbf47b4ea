-- Search by day: volume, zero results, and how often a view or a cart add followed.
with

searches as (
    select
        outcomes.*,
        searched.zero_results
    from {{ ref('int_search_outcomes') }} as outcomes
    inner join {{ ref('stg_silver__searches') }} as searched
        on outcomes.search_id = searched.search_id
),

final as (
    select
        event_date as date_day,
        count(*) as searches,
        count_if(zero_results) as zero_result_searches,
        {{ ratio('count_if(zero_results)', 'count(*)') }} as zero_result_rate,
        {{ ratio('count_if(followed_by_view)', 'count(*)') }} as search_to_view_rate,
        {{ ratio('count_if(followed_by_cart_add)', 'count(*)') }} as search_to_cart_rate
    from searches
    group by event_date
)

select * from final
