{% macro raw_record_count(name) %}
    {#-
        Raw records of input `name`, counted by reading it now: for a CSV file the rows DuckDB
        parsed (reading every column) plus the records it rejected; else the rows.
    -#}
    {%- set source_sql = raw_source(name) -%}  {#- also at parse time: records the seed's ref -#}
    {%- if not execute -%}
        {{ return(0) }}
    {%- elif raw_csv_path(name) is none -%}
        {%- set counted = run_query('select count(*) from ' ~ source_sql ~ ' as raw_input') -%}
        {{ return(counted.rows[0][0] | int) }}
    {%- endif -%}
    {%- do run_query('create or replace temp table custseg_counted_' ~ name ~ ' as select * from '
                     ~ source_sql ~ ' as raw_input') -%}
    {%- set rejects = csv_rejects_table(name) -%}
    {%- set counted = run_query(
        'select (select count(*) from custseg_counted_' ~ name ~ ') + (select count(distinct line)'
        ~ ' from ' ~ rejects ~ ' where scan_id = (select max(scan_id) from ' ~ rejects ~ '_scans))') -%}
    {%- do run_query('drop table custseg_counted_' ~ name) -%}
    {{ return(counted.rows[0][0] | int) }}
{% endmacro %}
