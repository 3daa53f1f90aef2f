{% macro raw_loaded_at(name, column) %}
    {#-
        The loaded_at_query of source raw.<name> (models/staging/raw/_raw__sources.yml): the
        latest value of its contract column `column` that is a valid time, read from wherever
        the input is (seeds, raw_data_dir, raw_schema) under the input's own column name
        (column_map or a recognised spelling). Raw values that do not parse, or lie outside
        min_valid_ts..max_valid_ts, are what staging rejects, so they do not count: one
        'yesterday' or a year-3000 typo would otherwise decide the freshness.
    -#}
    {%- set from_sql = raw_source_relation(name, record_seed=false) -%}
    {%- if from_sql is none -%}
        select cast(null as timestamp) as max_loaded_at
    {%- else -%}
        {%- set value = raw_input_columns(name, from_sql)['contract'][column] -%}
        select max(loaded_at) as max_loaded_at
        from (
            select try_cast(trim(cast({{ value }} as {{ dbt.type_string() }})) as timestamp) as loaded_at
            from {{ from_sql }} as raw_input
        ) as parsed
        where loaded_at between cast('{{ custseg.min_valid_ts() }}' as timestamp)
            and cast('{{ custseg.max_valid_ts() }}' as timestamp)
    {%- endif -%}
{% endmacro %}
