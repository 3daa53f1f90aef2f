{% macro sql_string(text) %}
    {#- `text` as an SQL string literal (single quotes doubled). -#}
    {{- return("'" ~ (text | replace("'", "''")) ~ "'") -}}
{% endmacro %}


{% macro columns_except(relation, alias, excluded) %}
    {#-
        A select list of every column of `relation` (a ref) but `excluded`, each as
        alias.column: a model passing on its parent's columns (new ones too) without its
        bookkeeping columns, on every engine. While parsing, in a unit test (its inputs are
        fixtures) and before `relation` is built: alias.*.
    -#}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return(alias ~ '.*') }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation)
        if column.name | lower not in excluded -%}
        {%- do names.append(alias ~ '.' ~ column.name) -%}
    {%- endfor -%}
    {#- Not built yet (dbt compile of a new database): alias.*. -#}
    {{ return(names | join(',\n        ') if names else alias ~ '.*') }}
{% endmacro %}
