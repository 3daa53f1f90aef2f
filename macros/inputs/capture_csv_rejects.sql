{#-
    A CSV record DuckDB cannot parse (wrong number of fields, broken quoting, bytes that are not
    UTF-8, an over-long line) is not dropped: the read keeps it in DuckDB's rejects tables, and
    raw_malformed_rows(name) hands it to base_<name>, which quarantines it with a csv_* reason.

    base_<name> reads its input through raw_input(name) and raw_malformed_rows(name); for a CSV
    input both are temporary tables that its pre_hook capture_raw_input(name) fills from one
    read of the file and its post_hook release_raw_input(name) drops. For seeds and Parquet
    files raw_input is raw_source and there are no malformed rows.
-#}

{% macro csv_rejects_table(name) %}
    {#- DuckDB's temporary rejects table of the CSV input `name`: one row per error, per scan. -#}
    {{- return('custseg_csv_rejects_' ~ name) -}}
{% endmacro %}


{% macro capture_raw_input(name, source_file=none, incremental=false) %}
    {#-
        A pre_hook of base_<name>. For a CSV input it reads the file once, every column, into
        a temporary table (raw_input(name) then reads it) and copies the records DuckDB rejected
        in that same read into another (csv_malformed_records; raw_malformed_rows(name) reads
        it). One read for both keeps them consistent: DuckDB checks a field (its encoding, say)
        only when the column is read, and its rejects tables are temporary (this connection
        only) and refilled by every read. Renders nothing for seeds, tables and Parquet files
        (the new rows of a table an incremental build validates are in that temporary table
        already: table_changes keeps them while comparing). `source_file` as raw_source;
        `incremental`: as input_read says.
    -#}
    {%- set read = input_read(name, incremental) -%}
    {%- if read.csv -%}
        {%- do run_query(
            'create or replace temp table custseg_raw_' ~ name ~ ' as select * from '
            ~ raw_source(name, read.files, source_file) ~ ' as raw_input') -%}
        create or replace temp table custseg_malformed_{{ name }} as
        {{ csv_malformed_records(name, read.files) }}
    {%- endif -%}
{% endmacro %}


{% macro input_read(name, incremental=false) %}
    {#-
        How base_<name> reads its input in this build: {'files': the files it reads (none: all;
        [] none), 'csv': whether they are CSV and read into temporary tables by its pre_hook,
        'unseen': whether it reads only the new rows of a table input, kept in a temporary
        table by table_changes}. `incremental`: the model is incremental, and input_increment
        says what to read; else the whole input.
    -#}
    {%- set increment = input_increment(name) if incremental else {'files': none, 'unseen': false} -%}
    {{ return({
        'files': increment.files,
        'csv': raw_csv_path(name) is not none and increment.files != [],
        'unseen': increment.unseen,
    }) }}
{% endmacro %}


{% macro csv_malformed_records(name, files=none) %}
    {#-
        The records of the latest read of CSV input `name` (of `files`, the CSV files it read;
        none: all of them) that DuckDB rejected, one row per record: line_number, reject_reason
        (csv_*: the most basic of its errors), raw_line (for csv_invalid_encoding the record's
        exact bytes with the bad ones escaped), error_message, source_file (the file as given,
        not its UTF-8 copy). Run right after the read (capture_raw_input): the rejects tables
        hold the latest read, one scan for every file of it.
    -#}
    {%- set rejects = csv_rejects_table(name) -%}
    {%- set files = raw_files(name) | map(attribute='file') | list if files is none else files -%}
    {%- set read_paths = {} -%}
    {%- for file in files -%}
        {%- do read_paths.update({custseg.csv_dialect(file).path: file}) -%}
    {%- endfor -%}
    {#- The files with a record that is not UTF-8: their bytes are read for its exact ones. -#}
    {%- set bad_encoding = [] -%}
    {%- for row in run_query(
        "select distinct scans.file_path from " ~ rejects ~ " as rejects inner join " ~ rejects
        ~ "_scans as scans on rejects.scan_id = scans.scan_id and rejects.file_id = scans.file_id"
        ~ " where rejects.error_type in ('INVALID ENCODING', 'INVALID UNICODE')"
        ~ " and rejects.scan_id = (select max(scan_id) from " ~ rejects ~ "_scans)").rows -%}
        {%- do bad_encoding.append(read_paths.get(row[0], row[0])) -%}
    {%- endfor -%}
        with

        errors as (
            select
                rejects.*,
                case scans.file_path
                    {%- for read_path, file in read_paths.items() %}
                    when {{ custseg.sql_string(read_path) }} then {{ custseg.sql_string(file) }}
                    {%- endfor %}
                end as source_file
            from {{ rejects }} as rejects
            inner join {{ rejects }}_scans as scans
                on rejects.scan_id = scans.scan_id and rejects.file_id = scans.file_id
            where rejects.scan_id = (select max(scan_id) from {{ rejects }}_scans)
        ),

        -- A record can break several rules; it gets one reason, the most basic one first.
        reasons as (
            select
                source_file,
                line,
                line_byte_position,
                csv_line,
                error_message,
                case error_type
                    when 'INVALID ENCODING' then 1
                    when 'INVALID UNICODE' then 1
                    when 'UNQUOTED VALUE' then 2
                    when 'LINE SIZE OVER MAXIMUM' then 3
                    when 'TOO MANY COLUMNS' then 4
                    when 'MISSING COLUMNS' then 5
                    else 6
                end as priority,
                case error_type
                    when 'INVALID ENCODING' then 'csv_invalid_encoding'
                    when 'INVALID UNICODE' then 'csv_invalid_encoding'
                    when 'UNQUOTED VALUE' then 'csv_bad_quoting'
                    when 'LINE SIZE OVER MAXIMUM' then 'csv_line_too_long'
                    when 'TOO MANY COLUMNS' then 'csv_too_many_columns'
                    when 'MISSING COLUMNS' then 'csv_missing_columns'
                    else 'csv_malformed_record'
                end as reject_reason
            from errors
        ),

        per_record as (
            select
                source_file,
                line as line_number,
                arg_min(reject_reason, priority) as reject_reason,
                arg_min(csv_line, priority) as raw_line,
                arg_min(error_message, priority) as error_message,
                min(line_byte_position) as line_byte_position
            from reasons
            group by source_file, line
        )

        {%- if bad_encoding %},

        -- DuckDB shows bytes that are not UTF-8 as '?', one per byte. Such a record keeps its
        -- exact bytes instead, as text with the bad bytes escaped (M\xFCnchen).
        file_bytes as (
            select
                filename,
                content
            from read_blob([
                {%- for file in bad_encoding %}{{ custseg.sql_string(file) }}{{ ", " if not loop.last }}{% endfor -%}
            ])
        ),

        exact_lines as (
            select
                per_record.line_number,
                per_record.reject_reason,
                case
                    when per_record.reject_reason = 'csv_invalid_encoding'
                        then cast(file_bytes.content[
                            per_record.line_byte_position:
                            per_record.line_byte_position + strlen(per_record.raw_line) - 1
                        ] as varchar)
                    else per_record.raw_line
                end as raw_line,
                per_record.error_message,
                per_record.source_file
            from per_record
            left join file_bytes on per_record.source_file = file_bytes.filename
        )

        select * from exact_lines
        {%- else %}

        select
            line_number,
            reject_reason,
            raw_line,
            error_message,
            source_file
        from per_record
        {%- endif %}
{% endmacro %}


{% macro release_raw_input(name, incremental=false) %}
    {#- A post_hook of base_<name>: frees what capture_raw_input(name) kept. -#}
    {%- set read = input_read(name, incremental) -%}
    {%- if read.csv or read.unseen -%}
        drop table if exists custseg_raw_{{ name }};
        drop table if exists custseg_malformed_{{ name }}
    {%- endif -%}
{% endmacro %}


{% macro raw_input(name, source_file=none, incremental=false) %}
    {#-
        What base_<name> reads: the rows of raw_source(name) (source('raw', name), wherever
        it is read from) DuckDB could parse, as captured by the model's pre_hook
        capture_raw_input(name) for a CSV input, or the new rows of a table it kept. Logs the
        input's columns that map to no contract column (report_unmapped_columns), once per
        build of base_<name>. `source_file` as raw_source; `incremental` as input_read
        (capture_raw_input must get the same).
    -#}
    {%- do report_unmapped_columns(name) -%}
    {%- set read = input_read(name, incremental) -%}
    {%- if read.csv or read.unseen -%}
        custseg_raw_{{ name }}
    {%- else -%}
        {{ raw_source(name, read.files, source_file) }}
    {%- endif -%}
{% endmacro %}


{% macro raw_malformed_rows(name, incremental=false) %}
    {#-
        Subquery of the CSV records of input `name` that DuckDB could not parse: line_number
        (in the file), reject_reason (csv_*), raw_line (the record as read; for
        csv_invalid_encoding its exact bytes with the bad ones escaped, e.g. M\xFCnchen; for
        csv_line_too_long its first 10,000 characters), error_message. Empty for seeds and
        Parquet, and when the build reads no file of it (input_read, `incremental` as there).
        Needs the model's pre_hook capture_raw_input(name).
    -#}
    {%- if input_read(name, incremental).csv -%}
        (select * from custseg_malformed_{{ name }})
    {%- else -%}
        (select
            cast(null as bigint) as line_number,
            cast(null as {{ dbt.type_string() }}) as reject_reason,
            cast(null as {{ dbt.type_string() }}) as raw_line,
            cast(null as {{ dbt.type_string() }}) as error_message,
            cast(null as {{ dbt.type_string() }}) as source_file
        where 1 = 0)
    {%- endif -%}
{% endmacro %}


{% macro malformed_as_rows(relation, columns) %}
    {#-
        The malformed records in `relation` (a CTE over raw_malformed_rows) shaped as rows of a
        base model, to union with its parsed rows: every one of `columns` null (in the model's
        column order) but source_file (the record's file), then reject_reason and raw_record
        (the line number, raw line and DuckDB's error as JSON).
    -#}
    select
        {%- for column in columns %}
        {{ 'source_file' if column == 'source_file' else 'null' }} as {{ column }},
        {%- endfor %}
        reject_reason,
        {{ columns_to_json(['line_number', 'raw_line', 'error_message']) }} as raw_record
    from {{ relation }}
{% endmacro %}


{% macro with_malformed_rows(parsed_relation, malformed_relation, columns) %}
    {#-
        Every row of a base model: its parsed rows (`parsed_relation`, a CTE) then its malformed
        records (`malformed_relation`, a CTE over raw_malformed_rows) shaped like them, with
        `columns` null (malformed_as_rows).
    -#}
    select * from {{ parsed_relation }}
    union all
    {{ malformed_as_rows(malformed_relation, columns) }}
{% endmacro %}
