{#-
    Where an input is with var raw_data_dir: find_raw_file(raw_dir, name) lists the directory
    on the engine that reads it (adapter.dispatch: DuckDB globs, Spark lists any file system it
    can read) and returns <name>.parquet, else <name>.csv, else none.
-#}

{% macro duckdb__find_raw_file(raw_dir, name) %}
    {%- set base = raw_dir.rstrip('/') ~ '/' ~ name -%}
    {%- set found = run_query(
        "select file from glob(" ~ custseg.sql_string(base ~ '.parquet') ~ ")"
        ~ " union all select file from glob(" ~ custseg.sql_string(base ~ '.csv') ~ ")") -%}
    {{ return(found.rows[0][0] if found.rows | length > 0 else none) }}
{% endmacro %}

{% macro spark__find_raw_file(raw_dir, name) %}
    {#-
        Spark lists raw_data_dir (any file system it can read: local, HDFS, S3, ABFS...) and
        takes NAME.parquet, a file or a directory of part files as Spark and other lake tools
        write it. NAME.csv is refused with a clear error (read_raw_file): the lake case is
        Parquet, and Spark's CSV reader would not account for every raw line as DuckDB's does.
    -#}
    {%- set root = raw_dir.rstrip('/') -%}
    {%- do run_query(
        "create or replace temporary view custseg_raw_files using binaryFile options (path "
        ~ custseg.sql_string(root) ~ ", recursiveFileLookup 'true')") -%}
    {%- set listed = run_query("select path from custseg_raw_files") -%}
    {%- set found = {} -%}
    {%- for row in listed.rows -%}
        {%- set relative = row[0].split(root.lstrip('/').split('://')[-1], 1)[-1].lstrip('/') -%}
        {%- for extension in ['parquet', 'csv'] -%}
            {%- set file = name ~ '.' ~ extension -%}
            {%- if relative == file or relative.startswith(file ~ '/') -%}
                {%- do found.setdefault(extension, root ~ '/' ~ file) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(found.get('parquet', found.get('csv'))) }}
{% endmacro %}

{% macro default__find_raw_file(raw_dir, name) %}
    {{ exceptions.raise_compiler_error(
        "raw_data_dir is implemented for DuckDB and Spark; on " ~ target.type
        ~ " declare the inputs as dbt sources instead.") }}
{% endmacro %}


{% macro raw_csv_path(name) %}
    {#- The input file of `name` when it is a CSV file read from raw_data_dir, else none. -#}
    {%- set raw_dir = var('raw_data_dir', none) -%}
    {%- if raw_dir is none or not execute or target.type != 'duckdb' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set path = custseg.duckdb__find_raw_file(raw_dir, name) -%}
    {{ return(path if path is not none and not path.endswith('.parquet') else none) }}
{% endmacro %}
