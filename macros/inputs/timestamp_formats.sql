{#-
    How staging reads the inputs' dates and timestamps: the one format of each column, detected
    from the data or set by var timestamp_formats, and the SQL that parses a value in it.

    The formats, in the order detection tries them (each a list of strptime formats; a value
    parses when one of them parses it):
      iso         ISO 8601: 2025-05-05, 2025-05-05 10:00:00, 2025-05-05T10:00:00.123, with a
                  zone offset or Z (converted to UTC); the cast both engines apply to text
      mdy         m/d/yyyy with an optional h:mm[:ss] (24 h, or 12 h with AM/PM): 12/1/2010 8:26
      dmy         d/m/yyyy, the same times: 1/12/2010 08:26
      dmy_dots    d.m.yyyy, the same times: 1.12.2010 08:26
      ymd_compact yyyymmdd (8 digits): 20101201
      epoch_s     seconds since 1970-01-01 UTC, 9 or 10 digits and an optional fraction
                  (1973-03-03 to 2286-11-20): 1291191960
      epoch_ms    milliseconds since 1970-01-01 UTC, 12 or 13 digits: 1291191960000
    A column's format is the one that parses the most of its non-empty values (all of them,
    in clean data); when several parse as many (only days <= 12: m/d and d/m both fit), the
    build stops and names the column and the var that settles it. An empty column reads as iso.
    Values that do not parse in the chosen format keep their reject reason
    (invalid_transaction_ts...), as unparseable text always has.
-#}

{% macro timestamp_columns() %}
    {#- The date and timestamp columns of each input, and which of the two each one is. -#}
    {{ return({
        'customers': {'signup_date': 'date'},
        'transactions': {'transaction_ts': 'timestamp'},
        'campaigns': {'start_date': 'date', 'end_date': 'date'},
        'campaign_contacts': {'contacted_at': 'timestamp'},
    }) }}
{% endmacro %}


{% macro timestamp_detection_rows() %}
    {#- How many rows of an input the format detection reads (its first ones, in file order). -#}
    {{ return(100000) }}
{% endmacro %}


{% macro typed_temporal_columns(name) %}
    {#-
        The date and timestamp columns of input `name` that it holds as DATE or TIMESTAMP
        values (typed Parquet files, warehouse tables; never CSV or the text seeds), by contract
        name. Their text (raw_source casts every column to text) is ISO 8601.
    -#}
    {%- set typed = [] -%}
    {%- set from_sql = raw_source_relation(name) if execute else none -%}
    {%- if from_sql is not none -%}
        {%- set contract = raw_input_columns(name, from_sql)['contract'] -%}
        {%- set types = {} -%}
        {%- for row in run_query('describe select * from ' ~ from_sql).rows -%}
            {%- do types.update({adapter.quote(row[0]): row[1] | lower}) -%}
        {%- endfor -%}
        {%- for column in timestamp_columns()[name] -%}
            {%- set type = types.get(contract.get(column)) or '' -%}
            {%- if type == 'date' or type.startswith('timestamp') -%}
                {%- do typed.append(column) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(typed) }}
{% endmacro %}


{% macro timestamp_format_families() %}
    {%- set times = [' %H:%M:%S', ' %H:%M', ' %I:%M:%S %p', ' %I:%M %p', ''] -%}
    {%- set families = {'iso': none} -%}
    {%- for family, date_format in [('mdy', '%m/%d/%Y'), ('dmy', '%d/%m/%Y'), ('dmy_dots', '%d.%m.%Y')] -%}
        {%- set formats = [] -%}
        {%- for time in times -%}
            {%- do formats.append(date_format ~ time) -%}
        {%- endfor -%}
        {%- do families.update({family: formats}) -%}
    {%- endfor -%}
    {%- do families.update({'ymd_compact': ['%Y%m%d'], 'epoch_s': none, 'epoch_ms': none}) -%}
    {{ return(families) }}
{% endmacro %}


{% macro input_timestamp_formats(name) %}
    {#-
        {column: format} for the date and timestamp columns of input `name`: a family name
        (timestamp_format_families) or a list of strptime formats. Var timestamp_formats sets
        a column's format ({transactions: {transaction_ts: '%d/%m/%Y %H:%M'}}: a strptime
        format, a list of them, or a family name); the others are detected from the raw input,
        in one query over the input's first timestamp_detection_rows() rows, except columns the
        input already holds typed (a DATE or TIMESTAMP column of a Parquet file or a warehouse
        table: its text is ISO). A unit test's rows are ISO whatever the input or the var: it
        gets iso.
    -#}
    {{ return(once_per_node('input_timestamp_formats:' ~ name, custseg.input_timestamp_formats_of, [name])) }}
{% endmacro %}


{% macro input_timestamp_formats_of(name) %}
    {#- input_timestamp_formats, detected from the input (once per node: node_cache). -#}
    {%- set columns = timestamp_columns()[name] -%}
    {%- if model.resource_type == 'unit_test' -%}
        {%- set iso = {} -%}
        {%- for column in columns -%}
            {%- do iso.update({column: 'iso'}) -%}
        {%- endfor -%}
        {{ return(iso) }}
    {%- endif -%}
    {#- Column names as input headers are normalised ('Transaction TS' is transaction_ts). -#}
    {%- set forced = {} -%}
    {%- for column, given in ((var('timestamp_formats', none) or {}).get(name) or {}).items() -%}
        {%- do forced.update({normalise_column_name(column): given}) -%}
    {%- endfor -%}
    {%- set families = timestamp_format_families() -%}
    {%- set formats = {} -%}
    {%- set detect = [] -%}
    {%- set typed = typed_temporal_columns(name) -%}
    {%- for column in columns -%}
        {%- set given = forced.get(column) -%}
        {%- if given is none -%}
            {%- if column not in typed -%}
                {%- do detect.append(column) -%}
            {%- endif -%}
            {%- do formats.update({column: 'iso'}) -%}
        {%- elif given is string and given in families -%}
            {%- do formats.update({column: given}) -%}
        {%- else -%}
            {%- do formats.update({column: [given] if given is string else given | list}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for column in forced if column not in columns -%}
        {%- do stop_build(
            "var timestamp_formats: " ~ name ~ " has no date or timestamp column '" ~ column
            ~ "' (its are: " ~ columns | join(', ') ~ ").") -%}
    {%- endfor -%}
    {%- if execute and detect -%}
        {%- set counts = [] -%}
        {%- for column in detect -%}
            {%- do counts.append('count(nullif(trim(' ~ column ~ "), '')) as " ~ column ~ '__values') -%}
            {%- for family in families -%}
                {%- do counts.append('count(' ~ parse_timestamp(column, family) ~ ') as '
                    ~ column ~ '__' ~ family) -%}
            {%- endfor -%}
        {%- endfor -%}
        {#- The first rows decide: trying every format family on every value cost 186 s at
            20M transactions, and the values that do not parse in the chosen format are
            rejected with their reason all the same. -#}
        {%- set result = run_query('select ' ~ counts | join(',\n') ~ ' from (select * from '
            ~ raw_source(name) ~ ' as raw_input limit ' ~ timestamp_detection_rows() ~ ') as raw_input') -%}
        {%- set row = result.rows[0] -%}
        {%- for column in detect -%}
            {%- set offset = loop.index0 * (families | length + 1) -%}
            {%- set parsed = {} -%}
            {%- for family in families -%}
                {%- do parsed.update({family: row[offset + loop.index]}) -%}
            {%- endfor -%}
            {%- set most = parsed.values() | max -%}
            {%- set best = [] -%}
            {%- for family in families if parsed[family] == most and most > 0 -%}
                {%- do best.append(family) -%}
            {%- endfor -%}
            {%- if best | length > 1 -%}
                {%- do stop_build(
                    name ~ "." ~ column ~ ": " ~ most ~ " of the " ~ row[offset]
                    ~ " values in its first " ~ timestamp_detection_rows() ~ " rows parse in more than one format (" ~ best | join(', ')
                    ~ "; e.g. every day is 12 or less): set var timestamp_formats, e.g. {"
                    ~ name ~ ": {" ~ column ~ ": '" ~ ((families[best[0]] or []) + [best[0], best[0]])[1]
                    ~ "'}} or '" ~ ((families[best[1]] or []) + [best[1], best[1]])[1]
                    ~ "' (strptime formats), or a format name: " ~ best | join(' / ') ~ ".") -%}
            {%- endif -%}
            {%- do formats.update({column: best[0] if best else 'iso'}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(formats) }}
{% endmacro %}


{% macro parse_timestamp(text_expr, format) %}
    {#-
        The timestamp (UTC, without zone) that text `text_expr` holds in `format` (a family
        name or a list of strptime formats), or null when it does not parse.
    -#}
    {%- set formats = timestamp_format_families().get(format, format) if format is string else format -%}
    {{- return(adapter.dispatch('parse_timestamp', 'custseg')(
        'trim(' ~ text_expr ~ ')', format if format is string else 'strptime', formats)) -}}
{% endmacro %}


{% macro parse_date(text_expr, format) %}
    {#- The date that text `text_expr` holds in `format` (parse_timestamp), or null. -#}
    {%- if format == 'iso' -%}
        {{- return('try_cast(trim(' ~ text_expr ~ ') as date)') -}}
    {%- endif -%}
    {{- return('cast(' ~ parse_timestamp(text_expr, format) ~ ' as date)') -}}
{% endmacro %}


{% macro duckdb__parse_timestamp(value, family, formats) -%}
    {%- if family == 'iso' -%}
        case
            when regexp_matches({{ value }}, '[0-9]:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)? ?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$')
                then timezone('UTC', try_cast({{ value }} as timestamptz))
            else try_cast({{ value }} as timestamp)
        end
    {%- elif family == 'epoch_s' -%}
        case
            when regexp_full_match({{ value }}, '[0-9]{9,10}([.][0-9]+)?')
                then make_timestamp(cast(cast({{ value }} as double) * 1000000 as bigint))
        end
    {%- elif family == 'epoch_ms' -%}
        case
            when regexp_full_match({{ value }}, '[0-9]{12,13}') then epoch_ms(cast({{ value }} as bigint))
        end
    {%- else -%}
        {%- set literals = [] -%}
        {%- for format in formats -%}
            {%- do literals.append(custseg.sql_string(format)) -%}
        {%- endfor -%}
        {#- A zone (%z) gives a timestamp with time zone: as UTC, like iso. -#}
        {%- if modules.re.search('%[zZ]', formats | join(' ')) -%}
            timezone('UTC', try_strptime({{ value }}, [{{ literals | join(', ') }}]))
        {%- else -%}
            try_strptime({{ value }}, [{{ literals | join(', ') }}])
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{% macro spark__parse_timestamp(value, family, formats) -%}
    {#- Spark's session time zone is UTC (profiles.yml), so its timestamps read as UTC. -#}
    {%- if family == 'iso' -%}
        try_cast({{ value }} as timestamp)
    {%- elif family == 'epoch_s' -%}
        case
            when {{ value }} rlike '^[0-9]{9,10}([.][0-9]+)?$'
                then timestamp_micros(cast(cast({{ value }} as double) * 1000000 as bigint))
        end
    {%- elif family == 'epoch_ms' -%}
        case
            when {{ value }} rlike '^[0-9]{12,13}$' then timestamp_millis(cast({{ value }} as bigint))
        end
    {%- else -%}
        {%- set patterns = [] -%}
        {%- for format in formats -%}
            {%- do patterns.append('try_to_timestamp(' ~ value ~ ', '
                ~ custseg.sql_string(spark_datetime_pattern(format)) ~ ')') -%}
        {%- endfor -%}
        coalesce({{ patterns | join(', ') }})
    {%- endif -%}
{%- endmacro %}


{% macro spark_datetime_pattern(strptime_format) %}
    {#- A strptime format as a Spark datetime pattern ('%d/%m/%Y %H:%M' -> 'd/M/yyyy H:mm'). -#}
    {%- set directives = {'Y': 'yyyy', 'y': 'yy', 'm': 'M', 'd': 'd', 'H': 'H', 'I': 'h',
                          'M': 'mm', 'S': 'ss', 'f': 'SSSSSS', 'p': 'a', 'z': 'XXX', 'Z': 'z',
                          'b': 'MMM', 'B': 'MMMM', 'j': 'D', '%': '%'} -%}
    {#- Spark parses 'M' and 'd' as one or two digits, but two fields with nothing between
        them (yyyyMMdd) need fixed widths. -#}
    {%- set fixed = {'m': 'MM', 'd': 'dd', 'H': 'HH', 'I': 'hh'} -%}
    {%- set pieces = modules.re.split('(%.)', strptime_format) | reject('equalto', '') | list -%}
    {%- set parts = [] -%}
    {%- for piece in pieces -%}
        {%- if piece.startswith('%') and piece | length == 2 -%}
            {%- if piece[1] not in directives -%}
                {%- do stop_build(
                    "var timestamp_formats: '" ~ strptime_format ~ "': " ~ piece
                    ~ " has no Spark equivalent here.") -%}
            {%- endif -%}
            {%- set adjacent = (not loop.first and loop.previtem.startswith('%'))
                or (not loop.last and loop.nextitem.startswith('%')) -%}
            {%- do parts.append(fixed[piece[1]] if adjacent and piece[1] in fixed
                else directives[piece[1]]) -%}
        {%- else -%}
            {%- do parts.append(modules.re.sub("([A-Za-z]+)", "'\\1'", piece | replace("'", "''"))) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(parts | join('')) }}
{% endmacro %}
