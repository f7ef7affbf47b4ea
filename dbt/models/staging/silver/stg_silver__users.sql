with

source as (
    select * from {{ source('silver', 'users') }}
),

renamed as (
    select
        user_id as customer_id,
        email_sha256,
        role,
        country,
        event_time as registered_at
    from source
)

select * from renamed
