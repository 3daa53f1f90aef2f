{% macro node_cache() %}
    {#-
        A dict that lives as long as the node being compiled or run (a model, a test, a hook):
        where a macro keeps what it read once, e.g. a CSV file's dialect and header, which
        several macros of one model ask for (csv_dialect, csv_header). It is dbt's per-node
        results store (`_sql_results`, where statement blocks keep their results), under a key
        no statement uses, so nothing outlives the node or leaks to another one.
    -#}
    {%- if 'custseg_node_cache' not in _sql_results -%}
        {%- do _sql_results.update({'custseg_node_cache': {}}) -%}
    {%- endif -%}
    {{ return(_sql_results['custseg_node_cache']) }}
{% endmacro %}
