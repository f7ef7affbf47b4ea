{#- A model's `+schema` as it is (`gold`, not `gold_gold`), behind the optional prefix a test
    gives its own copy of the lake (DBT_SHOPLAKE_SCHEMA_PREFIX, empty by default). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ schema_prefix() }}{{ custom_schema_name | trim if custom_schema_name is not none else target.schema }}
{%- endmacro %}

{% macro schema_prefix() -%}
    {{ env_var('DBT_SHOPLAKE_SCHEMA_PREFIX', '') }}
{%- endmacro %}
