{#- A rule every row keeps, e.g. `total_cents = subtotal_cents - discount_cents`; the rows
    that break it are the failures. `where` narrows the rows the rule is about. -#}
{% test expression_is_true(model, expression, where_clause=none) %}
    select * from {{ model }}
    where not ({{ expression }})
    {%- if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}
