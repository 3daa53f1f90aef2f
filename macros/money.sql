{% macro to_money(expr) -%}
    {#- An amount as decimal(18, 4): sums of decimals are exact, so the same on every run. -#}
    cast(round({{ expr }}, 4) as decimal(18, 4))
{%- endmacro %}
