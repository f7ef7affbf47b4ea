-- Recommendation lists shown (RecommendationShown); no row while the lake has none.
with

source as (
    {{ optional_source('silver', 'recommendation_impressions', {
        'event_id': 'string',
        'session_id': 'string',
        'user_id': 'string',
        'placement': 'string',
        'model_version': 'string',
        'event_time': 'timestamp',
        'event_date': 'date',
    }) }}
),

renamed as (
    select
        event_id as impression_id,
        session_id,
        user_id as customer_id,
        placement,
        coalesce(model_version, 'unknown') as model_version,
        event_time,
        event_date
    from source
)

select * from renamed
