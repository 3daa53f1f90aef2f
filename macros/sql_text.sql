{% macro sql_string(text) %}
    {#- `text` as an SQL string literal (single quotes doubled). -#}
    {{- return("'" ~ (text | replace("'", "''")) ~ "'") -}}
{% endmacro %}
