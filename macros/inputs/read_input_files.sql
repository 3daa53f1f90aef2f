{#-
    How an input file found in raw_data_dir is read, per engine (adapter.dispatch): the relation
    text raw_source selects from.
-#}

{% macro duckdb__read_raw_file(path, name, source_file=none) %}
    {#-
        `path`: a file, a glob or a list of files (raw_files) of one format; `source_file`: a
        column to add holding each row's file. Parquet files are matched by column name, so a
        later delivery may add or reorder columns; so are the CSV files of a directory, each
        read in its own dialect (csv_file_read) and all in one query, so one scan of DuckDB's
        rejects tables holds the records any of them rejected.
    -#}
    {%- set files = path if path is not string
        else raw_files(name) | map(attribute='file') | list if path.endswith('/*.csv')
        else none -%}
    {%- if files is not none and not (files[0] | default('')).endswith('.parquet') -%}
        (
        {%- for file in files %}
            {{ "union all by name" if not loop.first }}
            select * from {{ custseg.csv_file_read(file, name, source_file) }}
        {%- endfor %}
        )
    {%- elif files is not none -%}
        read_parquet([
        {%- for file in files %}{{ custseg.sql_string(file) }}{{ ", " if not loop.last }}{% endfor -%}
        ], union_by_name = true{{ ", filename = " ~ custseg.sql_string(source_file) if source_file }})
    {%- elif path.endswith('.parquet') -%}
        read_parquet({{ custseg.sql_string(path) }}, union_by_name = true
        {{- ", filename = " ~ custseg.sql_string(source_file) if source_file }})
    {%- else -%}
        {{ custseg.csv_file_read(path, name, source_file) }}
    {%- endif -%}
{% endmacro %}


{% macro csv_file_read(path, name, source_file=none) %}
    {#-
        The read of one CSV file of input `name`. No sniffing of the records: a file with many
        bad lines can defeat it. The file is RFC 4180 with a header row (csv_header reads the
        names) in the delimiter and encoding csv_dialect finds (a file in another encoding is
        read from a UTF-8 copy), every column is text, and records that break it go to the
        rejects tables (store_rejects, capture_csv_rejects.sql) instead of failing the read or
        vanishing. `source_file`: as duckdb__read_raw_file.
    -#}
    {%- set dialect = custseg.csv_dialect(path) -%}
    {%- set columns = [] -%}
    {%- for column in csv_header(dialect.path, dialect.delimiter, path) -%}
        {%- do columns.append(custseg.sql_string(column) ~ ": 'varchar'") -%}
    {%- endfor -%}
    {%- if source_file %}(select *, {{ custseg.sql_string(path) }} as {{ source_file }} from {% endif -%}
    read_csv(
        {{ custseg.sql_string(dialect.path) }},
        header = true, auto_detect = false, columns = { {{- columns | join(', ') -}} },
        delim = {{ custseg.sql_string(dialect.delimiter) }}, quote = '"', escape = '"', strict_mode = true,
        store_rejects = true,
        rejects_table = '{{ csv_rejects_table(name) }}',
        rejects_scan = '{{ csv_rejects_table(name) }}_scans'
    )
    {%- if source_file %}){% endif -%}
{% endmacro %}


{% macro spark__read_raw_file(path, name, source_file=none) %}
    {%- if not path.endswith('.parquet') -%}
        {%- do stop_build(
            "raw_data_dir: on Spark the inputs must be Parquet (" ~ path ~ " is CSV). Convert "
            ~ "it, e.g. with DuckDB: copy (from read_csv('NAME.csv', all_varchar = true)) to "
            ~ "'NAME.parquet', or build on DuckDB, which reads CSV strictly.") -%}
    {%- endif -%}
    {%- if source_file -%}
        (select *, {{ custseg.sql_string(path) }} as {{ source_file }} from parquet.{{ adapter.quote(path) }})
    {%- else -%}
        parquet.{{ adapter.quote(path) }}
    {%- endif -%}
{% endmacro %}
