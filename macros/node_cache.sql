{% macro node_cache() %}
    {#-
        A dict that lives as long as the node being compiled and run in this invocation (a
        model, a test, a hook): where a macro keeps what it read once, e.g. a CSV file's
        dialect and header or an input's timestamp formats, which several macros of one model
        ask for (csv_dialect, csv_header, input_timestamp_formats). A model is rendered twice,
        its SQL when it compiles and its hooks when it runs, before either writes a row, so
        both renderings share it: the incremental decision and the format detection are made
        once. It lives in dbt's graph of this invocation (one dict per invocation), keyed by
        invocation and node, so nothing outlives the build or leaks to another node.
    -#}
    {%- if not execute -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set caches = graph.setdefault('custseg_node_caches', {}) -%}
    {%- set node = model.unique_id if model is defined and model and model.unique_id is defined else 'operation' -%}
    {{ return(caches.setdefault(invocation_id ~ ':' ~ node, {})) }}
{% endmacro %}


{% macro once_per_node(key, compute, args) %}
    {#-
        compute(*args), worked out once per node (node_cache) under `key`: what a macro that
        several macros of one model ask for reads (a CSV file's dialect, an input's formats).
    -#}
    {%- set cache = node_cache() -%}
    {%- if key not in cache -%}
        {%- do cache.update({key: compute(*args)}) -%}
    {%- endif -%}
    {{ return(cache[key]) }}
{% endmacro %}
