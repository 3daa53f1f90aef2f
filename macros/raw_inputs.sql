{#-
    The input contract and how raw inputs are read.

    raw_source(name) returns a parenthesised subquery with every contract column of the input
    `name` as text (null where the input lacks the column) plus, for customers, any extra
    columns as they came. Staging types and validates from there, so seeds and files look alike.

    Without var raw_data_dir the inputs are the bundled seeds (raw_<name>). With it, DuckDB reads
    <raw_data_dir>/<name>.parquet or <name>.csv directly. customers is required; a missing
    transactions, campaigns or campaign_contacts input reads as an empty relation.

    A CSV record DuckDB cannot parse (wrong number of fields, broken quoting, bytes that are not
    UTF-8, an over-long line) is not dropped: the read keeps it in DuckDB's rejects tables, and
    raw_malformed_rows(name) hands it to base_<name>, which quarantines it with a csv_* reason
    (see capture_raw_input).
-#}

{% macro raw_contract() %}
    {{ return({
        'customers': ['customer_id', 'signup_date', 'age', 'gender', 'city', 'membership_tier',
                      'annual_income', 'email'],
        'transactions': ['transaction_id', 'customer_id', 'transaction_ts', 'product_category',
                         'quantity', 'unit_price', 'discount_amount', 'channel', 'status'],
        'campaigns': ['campaign_id', 'campaign_name', 'channel', 'offer_type', 'start_date',
                      'end_date'],
        'campaign_contacts': ['campaign_id', 'customer_id', 'contacted_at', 'responded',
                              'response_revenue'],
    }) }}
{% endmacro %}


{% macro derived_column_names() %}
    {#-
        Names an extra input column may not take (raw_source gives it an _input suffix): every
        column a model of this project documents (every output column is documented; a test
        checks it), the catalogue's features and staging's raw_<column> copies. Helper columns
        inside models start with '_', which a normalised input column name never does.
    -#}
    {%- set names = [] -%}
    {%- for node in graph.get('nodes', {}).values()
        if node.resource_type == 'model' and node.package_name == project_name -%}
        {%- for column in node.columns -%}
            {%- do names.append(column | lower) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for feature in var('feature_catalogue') -%}
        {%- do names.append(feature) -%}
    {%- endfor -%}
    {%- for column in raw_contract()['customers'] -%}
        {%- do names.append('raw_' ~ column) -%}
    {%- endfor -%}
    {{ return(names | unique | list) }}
{% endmacro %}


{% macro raw_source(name) %}
    {%- set contract = raw_contract()[name] -%}
    {%- set raw_dir = var('raw_data_dir', none) -%}
    {%- if raw_dir is none -%}
        {%- set from_sql = ref('raw_' ~ name) -%}
    {%- elif not execute -%}
        {#- Parsing: no files are read yet; any valid relation text will do. -#}
        {%- set from_sql = none -%}
    {%- else -%}
        {%- set path = adapter.dispatch('find_raw_file', 'custseg')(raw_dir, name) -%}
        {%- if path is none and name == 'customers' -%}
            {{ exceptions.raise_compiler_error(
                "raw_data_dir '" ~ raw_dir ~ "' has no customers.parquet or customers.csv: "
                ~ "customers is the one required input.") }}
        {%- endif -%}
        {%- set from_sql = none if path is none
            else adapter.dispatch('read_raw_file', 'custseg')(path, name) -%}
    {%- endif -%}

    {%- if from_sql is none -%}
        (select {% for column in contract -%}
            cast(null as {{ dbt.type_string() }}) as {{ column }}{{ ", " if not loop.last }}
        {%- endfor %} where 1 = 0)
    {%- else -%}
        {%- set present = raw_columns(from_sql) -%}
        {%- set derived = derived_column_names() -%}
        {%- set selects = [] -%}
        {%- for column in contract -%}
            {%- do selects.append(
                'cast(' ~ present.get(column, 'null') ~ ' as ' ~ dbt.type_string() ~ ') as ' ~ column) -%}
        {%- endfor -%}
        {%- for column, original in present.items() if column not in contract -%}
            {#- An extra column named like a column the project derives gets an _input suffix. -#}
            {%- set alias = column ~ '_input' if column in derived else column -%}
            {%- do selects.append(original ~ ' as ' ~ alias) -%}
        {%- endfor -%}
        (select {{ selects | join(', ') }} from {{ from_sql }})
    {%- endif -%}
{% endmacro %}


{% macro raw_columns(from_sql) %}
    {#- Maps normalised column names (lowercase, non-alphanumerics as _) to quoted originals. -#}
    {%- set columns = {} -%}
    {%- if execute -%}
        {%- set described = run_query('describe select * from ' ~ from_sql) -%}
        {%- for row in described.rows -%}
            {%- set original = row[0] -%}
            {%- set normalised = modules.re.sub('[^a-z0-9]+', '_', original | lower).strip('_') -%}
            {%- do columns.update({normalised: adapter.quote(original)}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(columns) }}
{% endmacro %}


{% macro pii_column_pattern() %}
    {#-
        Column names (normalised) that hold personal data: contact details, names, addresses,
        birth dates, identity and payment numbers. Such columns never leave staging; has_email
        (a flag) is not personal data. The test assert_no_pii_downstream_of_staging and
        tests/python/test_bad_input.py scan every model outside staging with it.
    -#}
    {{ return(
        '(.*e_?mail.*|.*(phone|mobile|fax).*|.*(address|street|post_?code|postal_code|zip_?code).*'
        ~ '|(.*_)?(first|last|full|given|middle|maiden|customer|person|contact)_?name|surname|name'
        ~ '|.*(birth_?date|date_of_birth|birthday|dob).*'
        ~ '|.*(ssn|social_security|national_id|passport|tax_id|iban|credit_card|card_number'
        ~ '|ip_address|password).*)'
    ) }}
{% endmacro %}


{% macro is_pii_column(name) %}
    {{ return(name | lower != 'has_email'
              and modules.re.fullmatch(pii_column_pattern(), name | lower) is not none) }}
{% endmacro %}


{% macro raw_extra_columns() %}
    {#- Customer input columns beyond the contract (normalised names, as raw_source gives them). -#}
    {%- set contract = raw_contract()['customers'] -%}
    {%- set extras = [] -%}
    {%- for column in raw_columns(raw_source('customers')) if column not in contract -%}
        {%- do extras.append(column) -%}
    {%- endfor -%}
    {{ return(extras) }}
{% endmacro %}


{% macro raw_extra_numeric_columns() %}
    {#-
        Extra customer attributes beyond the contract whose every non-null value is a number:
        they become features. Read from the raw input, for staging; later layers call
        extra_numeric_columns(), which reads them off stg_customers. A column named like
        personal data (pii_column_pattern: a phone number is all digits) is never one.
    -#}
    {%- set source_sql = raw_source('customers') -%}
    {%- set extras = [] -%}
    {%- if execute -%}
        {%- set candidates = [] -%}
        {%- for column in raw_extra_columns() if not is_pii_column(column) -%}
            {%- do candidates.append(column) -%}
        {%- endfor -%}
        {%- if candidates -%}
            {%- set checks -%}
                select
                {%- for column in candidates %}
                    count({{ column }}) > 0
                    and count({{ column }}) = count(try_cast(cast({{ column }} as {{ dbt.type_string() }}) as double))
                    as {{ column }}{{ "," if not loop.last }}
                {%- endfor %}
                from {{ source_sql }} as raw_customers
            {%- endset -%}
            {%- set result = run_query(checks) -%}
            {%- for column in candidates -%}
                {%- if result.rows[0][loop.index0] -%}
                    {%- do extras.append(column) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(extras) }}
{% endmacro %}


{% macro extra_numeric_columns() %}
    {#-
        The extra numeric customer attributes, as staged in stg_customers: its columns that its
        documentation does not list. Read off the built relation without a ref(), so calling
        this adds no lineage edge (every caller is downstream of stg_customers anyway, through
        int_customer_attributes_banded).
    -#}
    {%- set extras = [] -%}
    {#- Unit tests run without the graph: their fixtures have no extra columns. -#}
    {%- set node = graph.get('nodes', {}).get('model.' ~ project_name ~ '.stg_customers') -%}
    {%- if execute and node is not none -%}
        {%- set staged = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- for column in (adapter.get_columns_in_relation(staged) if staged else []) -%}
            {%- if column.name | lower not in node.columns -%}
                {%- do extras.append(column.name | lower) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(extras) }}
{% endmacro %}


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


{% macro duckdb__read_raw_file(path, name) %}
    {%- if path.endswith('.parquet') -%}
        read_parquet({{ custseg.sql_string(path) }})
    {%- else -%}
        {#-
            No sniffing: a file with many bad lines can defeat it. The dialect is fixed (RFC 4180
            with a header row), every column is text, and records that break it go to the rejects
            tables (store_rejects) instead of failing the read or vanishing.
        -#}
        {%- set columns = [] -%}
        {%- for column in csv_header(path) -%}
            {%- do columns.append(custseg.sql_string(column) ~ ": 'varchar'") -%}
        {%- endfor -%}
        read_csv(
            {{ custseg.sql_string(path) }},
            header = true, auto_detect = false, columns = { {{- columns | join(', ') -}} },
            delim = ',', quote = '"', escape = '"', strict_mode = true,
            store_rejects = true,
            rejects_table = '{{ csv_rejects_table(name) }}',
            rejects_scan = '{{ csv_rejects_table(name) }}_scans'
        )
    {%- endif -%}
{% endmacro %}


{% macro csv_header(path) %}
    {#- The column names on the first line of a CSV file (quoted names may hold commas). -#}
    {%- set first_line = run_query(
        "select line from read_csv(" ~ custseg.sql_string(path) ~ ", header = false,"
        ~ " auto_detect = false, columns = {'line': 'varchar'}, delim = '\x1f', quote = '',"
        ~ " escape = '', strict_mode = false, ignore_errors = true) limit 1") -%}
    {%- if first_line.rows | length == 0 or first_line.rows[0][0] is none -%}
        {{ exceptions.raise_compiler_error("'" ~ path ~ "' has no header row.") }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for field in modules.re.finditer('(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))', first_line.rows[0][0]) -%}
        {%- set name = field.group(1).replace('""', '"') if field.group(1) is not none
            else field.group(2).strip() -%}
        {%- if name == '' or name in names -%}
            {{ exceptions.raise_compiler_error(
                "'" ~ path ~ "': every header field needs a distinct, non-empty column name.") }}
        {%- endif -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}


{% macro csv_rejects_table(name) %}
    {#- DuckDB's temporary rejects table of the CSV input `name`: one row per error, per scan. -#}
    {{- return('custseg_csv_rejects_' ~ name) -}}
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


{% macro capture_raw_input(name) %}
    {#-
        A pre_hook of base_<name>. For a CSV input it reads the file once, every column, into
        a temporary table (raw_input(name) then reads it) and copies the records DuckDB rejected
        in that same read into another (raw_malformed_rows(name) reads it). One read for both
        keeps them consistent: DuckDB checks a field (its encoding, say) only when the column is
        read, and its rejects tables are temporary (this connection only) and refilled by every
        read. Renders nothing for seeds and Parquet files.
    -#}
    {%- if raw_csv_path(name) is not none -%}
        {%- do run_query(
            'create or replace temp table custseg_raw_' ~ name ~ ' as select * from '
            ~ raw_source(name) ~ ' as raw_input') -%}
        {%- set rejects = csv_rejects_table(name) -%}
        {%- set bad_encoding = run_query(
            "select count(*) from " ~ rejects ~ " where error_type in ('INVALID ENCODING',"
            ~ " 'INVALID UNICODE') and scan_id = (select max(scan_id) from " ~ rejects ~ "_scans)"
        ).rows[0][0] > 0 -%}
        create or replace temp table custseg_malformed_{{ name }} as
        with

        errors as (
            select * from {{ rejects }}
            where scan_id = (select max(scan_id) from {{ rejects }}_scans)
        ),

        -- A record can break several rules; it gets one reason, the most basic one first.
        reasons as (
            select
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
                line as line_number,
                arg_min(reject_reason, priority) as reject_reason,
                arg_min(csv_line, priority) as raw_line,
                arg_min(error_message, priority) as error_message,
                min(line_byte_position) as line_byte_position
            from reasons
            group by line
        )

        {%- if bad_encoding %},

        -- DuckDB shows bytes that are not UTF-8 as '?', one per byte. Such a record keeps its
        -- exact bytes instead, as text with the bad bytes escaped (M\xFCnchen).
        file_bytes as (
            select content from read_blob({{ custseg.sql_string(raw_csv_path(name)) }})
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
                per_record.error_message
            from per_record
            cross join file_bytes
        )

        select * from exact_lines
        {%- else %}

        select
            line_number,
            reject_reason,
            raw_line,
            error_message
        from per_record
        {%- endif %}
    {%- endif -%}
{% endmacro %}


{% macro release_raw_input(name) %}
    {#- A post_hook of base_<name>: frees what capture_raw_input(name) kept. -#}
    {%- if raw_csv_path(name) is not none -%}
        drop table if exists custseg_raw_{{ name }};
        drop table if exists custseg_malformed_{{ name }}
    {%- endif -%}
{% endmacro %}


{% macro raw_input(name) %}
    {#-
        What base_<name> reads: the rows of raw_source(name) DuckDB could parse, as captured by
        the model's pre_hook capture_raw_input(name) for a CSV input.
    -#}
    {%- if raw_csv_path(name) is not none -%}
        custseg_raw_{{ name }}
    {%- else -%}
        {{ raw_source(name) }}
    {%- endif -%}
{% endmacro %}


{% macro raw_malformed_rows(name) %}
    {#-
        Subquery of the CSV records of input `name` that DuckDB could not parse: line_number
        (in the file), reject_reason (csv_*), raw_line (the record as read; for
        csv_invalid_encoding its exact bytes with the bad ones escaped, e.g. M\xFCnchen; for
        csv_line_too_long its first 10,000 characters), error_message. Empty for seeds and Parquet. Needs the model's
        pre_hook capture_raw_input(name).
    -#}
    {%- if raw_csv_path(name) is not none -%}
        (select * from custseg_malformed_{{ name }})
    {%- else -%}
        (select
            cast(null as bigint) as line_number,
            cast(null as {{ dbt.type_string() }}) as reject_reason,
            cast(null as {{ dbt.type_string() }}) as raw_line,
            cast(null as {{ dbt.type_string() }}) as error_message
        where 1 = 0)
    {%- endif -%}
{% endmacro %}


{% macro malformed_as_rows(relation, columns) %}
    {#-
        The malformed records in `relation` (a CTE over raw_malformed_rows) shaped as rows of a
        base model, to union with its parsed rows: every one of `columns` null (in the model's
        column order), then reject_reason and raw_record (the line number, raw line and
        DuckDB's error as JSON).
    -#}
    select
        {%- for column in columns %}
        null as {{ column }},
        {%- endfor %}
        reject_reason,
        {{ columns_to_json(['line_number', 'raw_line', 'error_message']) }} as raw_record
    from {{ relation }}
{% endmacro %}


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


{% macro spark__read_raw_file(path, name) %}
    {%- if not path.endswith('.parquet') -%}
        {{ exceptions.raise_compiler_error(
            "raw_data_dir: on Spark the inputs must be Parquet (" ~ path ~ " is CSV). Convert "
            ~ "it, e.g. with DuckDB: copy (from read_csv('NAME.csv', all_varchar = true)) to "
            ~ "'NAME.parquet', or build on DuckDB, which reads CSV strictly.") }}
    {%- endif -%}
    parquet.{{ adapter.quote(path) }}
{% endmacro %}


{% macro sql_string(text) %}
    {{- return("'" ~ (text | replace("'", "''")) ~ "'") -}}
{% endmacro %}
