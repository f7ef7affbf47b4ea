with

days as (
    select explode(sequence(first_day, last_day, interval 1 day)) as date_day
    from {{ ref('int_lake_dates') }}
),

holidays as (
    select * from {{ ref('shopping_holidays') }}
),

final as (
    select
        days.date_day,
        year(days.date_day) as year,
        quarter(days.date_day) as quarter,
        month(days.date_day) as month,
        date_format(days.date_day, 'MMMM') as month_name,
        trunc(days.date_day, 'MM') as month_start,
        date_trunc('week', days.date_day) as week_start,
        -- ISO day of the week: Monday 1 ... Sunday 7.
        weekday(days.date_day) + 1 as day_of_week,
        date_format(days.date_day, 'EEEE') as day_name,
        weekday(days.date_day) >= 5 as is_weekend,
        holidays.holiday_date is not null as is_holiday,
        holidays.holiday_name
    from days
    left join holidays on days.date_day = holidays.holiday_date
)

select
    date_day,
    year,
    quarter,
    month,
    month_name,
    month_start,
    cast(week_start as date) as week_start,
    day_of_week,
    day_name,
    is_weekend,
    is_holiday,
    holiday_name
from final
