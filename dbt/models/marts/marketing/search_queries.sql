-- Every search query (normalised): how often, how often it found nothing, what followed.
with

searches as (
    select
        outcomes.*,
        searched.result_count,
        searched.zero_results
    from {{ ref('int_search_outcomes') }} as outcomes
    inner join {{ ref('stg_silver__searches') }} as searched
        on outcomes.search_id = searched.search_id
),

final as (
    select
        query,
        count(*) as searches,
        count(distinct session_id) as sessions,
        count_if(zero_results) as zero_result_searches,
        {{ ratio('count_if(zero_results)', 'count(*)') }} as zero_result_rate,
        avg(result_count) as avg_result_count,
        count_if(followed_by_view) as searches_with_view,
        count_if(followed_by_cart_add) as searches_with_cart,
        {{ ratio('count_if(followed_by_view)', 'count(*)') }} as search_to_view_rate,
        {{ ratio('count_if(followed_by_cart_add)', 'count(*)') }} as search_to_cart_rate,
        min(event_time) as first_searched_at,
        max(event_time) as last_searched_at
    from searches
    group by query
)

select * from final
