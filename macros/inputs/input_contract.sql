{#-
    The input contract: which inputs there are, the columns each must offer, and raw_source(name),
    the one relation every reader of an input goes through.

    raw_source(name) returns a parenthesised subquery with every contract column of the input
    `name` as text (null where the input lacks the column) plus, for customers, any extra
    columns as they came. Staging types and validates from there, so seeds and files look alike.

    Without var raw_data_dir the inputs are the bundled seeds (raw_<name>). With it, the input is
    the file discover_input_files.sql finds (<raw_data_dir>/<name>.parquet or <name>.csv), read
    as read_input_files.sql says. customers is required; a missing transactions, campaigns or
    campaign_contacts input reads as an empty relation.
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
