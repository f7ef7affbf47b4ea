{#- Money is integer cents; a rate is a double, null when there is nothing to divide by. -#}
{% macro ratio(numerator, denominator) -%}
    try_divide(cast({{ numerator }} as double), cast({{ denominator }} as double))
{%- endmacro %}

{% macro cents_per(total_cents, count) -%}
    cast(round(try_divide(cast({{ total_cents }} as double), {{ count }})) as bigint)
{%- endmacro %}

{#- The newest rows of an incremental model are recomputed with the events around them. -#}
{% macro incremental_since(column) -%}
    (
        select coalesce(max({{ column }}), timestamp'1970-01-01 00:00:00')
            - make_interval(0, 0, 0, {{ var('incremental_lookback_days') }})
        from {{ this }}
    )
{%- endmacro %}
