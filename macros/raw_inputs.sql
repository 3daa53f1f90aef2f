{#-
    The input contract and how raw inputs are read.

    raw_source(name) returns a parenthesised subquery with every contract column of the input
    `name` as text (null where the input lacks the column) plus, for customers, any extra
    columns as they came. Staging types and validates from there, so seeds and files look alike.

    Without var raw_data_dir the inputs are the bundled seeds (raw_<name>). With it, DuckDB reads
    <raw_data_dir>/<name>.parquet or <name>.csv directly. customers is required; a missing
    transactions, campaigns or campaign_contacts input reads as an empty relation.
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
    {#- Names the models derive from the inputs; an extra input column may not take one. -#}
    {%- set names = [
        'raw_record', 'reject_reason', 'invalid_attributes', 'has_email', 'non_null_values',
        'id_occurrence', 'age_number', 'income_number', 'tenure_days', 'age_band', 'income_band',
        'has_purchases', 'first_purchase_at', 'last_purchase_at', 'recency_days', 'frequency',
        'returned_orders', 'monetary', 'avg_order_value', 'avg_basket_quantity',
        'discount_share', 'return_rate', 'category_diversity', 'preferred_channel',
        'preferred_category', 'recency_score', 'frequency_score', 'monetary_score', 'rfm_score',
        'segment_id', 'distance_to_centroid', 'second_segment_id', 'margin_to_second',
    ] -%}
    {%- for column in raw_contract()['customers'] -%}
        {%- do names.append('raw_' ~ column) -%}  {#- staging keeps raw values as raw_<column> -#}
    {%- endfor -%}
    {{ return(names) }}
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
            else adapter.dispatch('read_raw_file', 'custseg')(path) -%}
    {%- endif -%}

    {%- if from_sql is none -%}
        (select {% for column in contract -%}
            cast(null as varchar) as {{ column }}{{ ", " if not loop.last }}
        {%- endfor %} where 1 = 0)
    {%- else -%}
        {%- set present = raw_columns(from_sql) -%}
        {%- set selects = [] -%}
        {%- for column in contract -%}
            {%- do selects.append('cast(' ~ present.get(column, 'null') ~ ' as varchar) as ' ~ column) -%}
        {%- endfor -%}
        {%- for column, original in present.items() if column not in contract -%}
            {#- An extra column named like a column the project derives gets an _input suffix. -#}
            {%- set alias = column ~ '_input' if column in derived_column_names() else column -%}
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


{% macro raw_extra_numeric_columns() %}
    {#-
        Extra customer attributes beyond the contract whose every non-null value is a number:
        they become features. Read from the raw input, for staging; later layers call
        extra_numeric_columns(), which reads them off stg_customers.
    -#}
    {%- set contract = raw_contract()['customers'] -%}
    {%- set source_sql = raw_source('customers') -%}
    {%- set extras = [] -%}
    {%- if execute -%}
        {%- set candidates = [] -%}
        {%- for column in raw_columns(source_sql) if column not in contract -%}
            {%- do candidates.append(column) -%}
        {%- endfor -%}
        {%- if candidates -%}
            {%- set checks -%}
                select
                {%- for column in candidates %}
                    count({{ column }}) > 0
                    and count({{ column }}) = count(try_cast(cast({{ column }} as varchar) as double))
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
    {#- The extra numeric customer attributes, as staged in stg_customers. -#}
    {%- set staged = ref('stg_customers') -%}
    {%- set known = ['customer_id', 'signup_date', 'age', 'gender', 'city', 'membership_tier',
                     'annual_income', 'has_email', 'invalid_attributes'] -%}
    {%- set extras = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(staged) -%}
            {%- if column.name | lower not in known -%}
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

{% macro default__find_raw_file(raw_dir, name) %}
    {{ exceptions.raise_compiler_error(
        "raw_data_dir is implemented for DuckDB; on " ~ target.type
        ~ " declare the inputs as dbt sources instead.") }}
{% endmacro %}


{% macro duckdb__read_raw_file(path) %}
    {%- if path.endswith('.parquet') -%}
        read_parquet({{ custseg.sql_string(path) }})
    {%- else -%}
        read_csv(
            {{ custseg.sql_string(path) }},
            header = true, delim = ',', quote = '"', all_varchar = true, strict_mode = true
        )
    {%- endif -%}
{% endmacro %}


{% macro sql_string(text) %}
    {{- return("'" ~ (text | replace("'", "''")) ~ "'") -}}
{% endmacro %}
