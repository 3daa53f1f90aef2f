{% macro stop_build(message) %}
    {#-
        Stops the build with `message`, one line naming the cause and the fix, for an error of
        the data or the settings (an input's header, a file's line endings, a var's value, a
        fit the data does not allow). dbt labels exceptions.raise_compiler_error "Compilation
        Error", which says the project's code is broken; this raises the error in the engine
        instead (dbt: "Runtime Error ... Invalid Input Error: <message>" on DuckDB). At parse
        time nothing is raised: the same check runs again when the node, or the settings check
        of on-run-start (check_settings), executes.
    -#}
    {%- if execute -%}
        {%- do adapter.dispatch('stop_build', 'custseg')(message | string) -%}
    {%- endif -%}
{% endmacro %}

{% macro default__stop_build(message) %}
    {{ exceptions.raise_database_error(message) }}
{% endmacro %}

{% macro duckdb__stop_build(message) %}
    {%- do run_query('select error(' ~ custseg.sql_string(message) ~ ')') -%}
{% endmacro %}

{% macro spark__stop_build(message) %}
    {#- Spark string literals read backslash escapes: a backslash of the message is doubled. -#}
    {%- do run_query('select raise_error(' ~ custseg.sql_string(message | replace('\\', '\\\\')) ~ ')') -%}
{% endmacro %}
