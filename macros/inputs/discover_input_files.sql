{#-
    Where an input is with var raw_data_dir: find_raw_file(raw_dir, name) lists the directory
    on the engine that reads it (adapter.dispatch: DuckDB globs, Spark lists any file system it
    can read) and returns <name>.parquet, else <name>.csv, else none. On DuckDB an input may
    also be a directory <name>/ of files of one format, one per delivery
    (transactions/2026-12-01.parquet, ... or transactions/2026-12-01.csv, ...): find_raw_file
    returns their glob <name>/*.parquet or <name>/*.csv, which every reader reads as one input,
    and raw_files(name) the files themselves, in name order.
-#}

{% macro duckdb__find_raw_file(raw_dir, name) %}
    {%- set base = raw_dir.rstrip('/') ~ '/' ~ name -%}
    {%- set candidates = [base ~ '.parquet', base ~ '.csv', base ~ '/*.parquet', base ~ '/*.csv'] -%}
    {%- set probes = [] -%}
    {%- for pattern in candidates -%}
        {%- do probes.append("select " ~ loop.index ~ " as priority, " ~ custseg.sql_string(pattern)
            ~ " as pattern from glob(" ~ custseg.sql_string(pattern) ~ ")") -%}
    {%- endfor -%}
    {%- set found = run_query(
        "select distinct priority, pattern from (" ~ probes | join(' union all ')
        ~ ") order by priority") -%}
    {%- set patterns = found.columns[1].values() | list -%}
    {%- if base ~ '/*.parquet' in patterns and base ~ '/*.csv' in patterns -%}
        {%- do stop_build(
            "raw_data_dir: " ~ base ~ "/ holds both Parquet and CSV files; a directory of "
            ~ "deliveries is one format. Convert the CSV files, e.g. with DuckDB: copy (from "
            ~ "read_csv('FILE.csv', all_varchar = true)) to 'FILE.parquet', or move them out.") -%}
    {%- endif -%}
    {{ return(patterns[0] if patterns else none) }}
{% endmacro %}


{% macro raw_files(name) %}
    {#-
        The files input `name` is read from (raw_data_dir on DuckDB), in name order, each with
        its version (size and modification time: a file rewritten in place is a new version);
        an empty list for seeds, warehouse tables, Spark or a missing input.
    -#}
    {%- set path = raw_source_path(name) -%}
    {%- if path is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set listed = run_query(
        "select filename, size || '@' || epoch_us(last_modified) from read_blob("
        ~ custseg.sql_string(path) ~ ") order by filename") -%}
    {%- set files = [] -%}
    {%- for row in listed.rows -%}
        {%- do files.append({'file': row[0], 'version': row[1]}) -%}
    {%- endfor -%}
    {{ return(files) }}
{% endmacro %}


{% macro raw_source_path(name) %}
    {#- The file or glob input `name` is read from on DuckDB with raw_data_dir, else none. -#}
    {%- set raw_dir = var('raw_data_dir', none) -%}
    {%- if raw_dir is none or not execute or target.type != 'duckdb' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(custseg.duckdb__find_raw_file(raw_dir, name)) }}
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
    {#-
        The input of `name` when it is a CSV file read from raw_data_dir, or the glob of a
        directory of them (<name>/*.csv), else none.
    -#}
    {%- set path = raw_source_path(name) -%}
    {{ return(path if path is not none and not path.endswith('.parquet') else none) }}
{% endmacro %}
