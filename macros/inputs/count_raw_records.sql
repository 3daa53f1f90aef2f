{% macro raw_record_count(name) %}
    {#-
        SQL (a scalar subquery or a number) for the raw records of input `name`: the rows of a
        seed or Parquet file, counted when the query runs; for a CSV file (or a directory of
        them) the rows DuckDB parses plus the records it rejects. DuckDB keeps a CSV read's
        rejects only in a temporary table that a later statement reads, so a CSV input is
        counted now, in two streaming queries and without copying the file: the count checks
        every column (hash(raw_input)), because DuckDB only finds some errors, a byte that is
        not UTF-8 say, in a column it reads.
    -#}
    {%- set source_sql = raw_source(name) -%}  {#- also at parse time: records the seed's ref -#}
    {%- if raw_csv_path(name) is none -%}
        (select count(*) from {{ source_sql }} as raw_input)
    {%- else -%}
        {%- set parsed = run_query('select count(*) from ' ~ source_sql
                                   ~ ' as raw_input where hash(raw_input) is not null') -%}
        {%- set rejects = csv_rejects_table(name) -%}
        {%- set rejected = run_query(
            'select count(distinct (file_id, line)) from ' ~ rejects
            ~ ' where scan_id = (select max(scan_id) from ' ~ rejects ~ '_scans)') -%}
        {{- parsed.rows[0][0] + rejected.rows[0][0] -}}
    {%- endif -%}
{% endmacro %}
