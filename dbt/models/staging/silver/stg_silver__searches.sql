with

source as (
    select * from {{ source('silver', 'searches') }}
),

renamed as (
    select
        event_id as search_id,
        session_id,
        user_id as customer_id,
        channel,
        query,
        -- One spelling per query: case and surrounding or repeated spaces do not count.
        regexp_replace(lower(trim(query)), '\\s+', ' ') as query_normalised,
        filters,
        result_count,
        zero_results,
        event_time,
        event_date
    from source
)

select * from renamed
