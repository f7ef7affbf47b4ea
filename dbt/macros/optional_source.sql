{#- A source that may not exist yet: its rows when the table is there, else no row with the
    columns it will have. For facts that arrive with later work (recommendation impressions),
    so that a mart over them builds today and fills in once the table lands.
    `columns` maps each column to its Spark type. -#}
{% macro optional_source(source_name, table_name, columns) -%}
    {%- set declared = source(source_name, table_name) -%}
    {%- set relation = adapter.get_relation(
        database=declared.database, schema=declared.schema, identifier=declared.identifier
    ) if execute else none -%}
    {%- if relation is not none -%}
        select {{ columns.keys() | join(', ') }} from {{ declared }}
    {%- else -%}
        select
        {%- for name, type in columns.items() %}
            cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where false
    {%- endif -%}
{%- endmacro %}
