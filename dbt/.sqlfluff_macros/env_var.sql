{#- For linting only (sqlfluff's jinja templater has no dbt `env_var`): a placeholder value. -#}
{% macro env_var(name, default=none) -%}
    {{ default if default is not none else '/lake' }}
{%- endmacro %}
