{#-
    The input contract: which inputs there are, the columns each must offer, where the inputs are
    read from, and raw_source(name), the one relation every reader of an input goes through.

    The four inputs are the dbt source `raw` (models/staging/raw/_raw__sources.yml). Where they are read
    from is one choice, raw_origin(): the bundled seeds (default), the files in var raw_data_dir,
    or the tables in var raw_schema (and optional raw_database) of the warehouse.

    raw_source(name) returns a parenthesised subquery with every contract column of the input
    `name` as text (null where the input lacks the column) plus, for customers, any extra
    columns as they came. Input columns are matched to the contract by normalised name (raw_columns),
    by var column_map, or by a recognised spelling (raw_column_aliases); raw_input_columns says
    which. Staging types and validates from there, so every origin looks alike. customers is
    required; a missing transactions, campaigns or campaign_contacts input reads as empty.
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


{% macro raw_required_columns() %}
    {#-
        The contract columns an input cannot do without: every row would be rejected for lacking
        them. An input whose columns lack one stops the build (raw_input_columns).
    -#}
    {{ return({
        'customers': ['customer_id'],
        'transactions': ['transaction_id', 'customer_id', 'transaction_ts'],
        'campaigns': ['campaign_id'],
        'campaign_contacts': ['campaign_id', 'customer_id'],
    }) }}
{% endmacro %}


{% macro raw_keys() %}
    {#-
        The columns that identify a row of each input: rows sharing them are copies of one
        row (the base models keep the first valid copy and reject the others), and the ids
        other inputs reference are the first of them.
    -#}
    {{ return({
        'customers': ['customer_id'],
        'transactions': ['transaction_id'],
        'campaigns': ['campaign_id'],
        'campaign_contacts': ['campaign_id', 'customer_id'],
    }) }}
{% endmacro %}


{% macro raw_references() %}
    {#-
        The ids each input's rows must find among another input's accepted rows (else
        orphan_<column>): what base models check and what an incremental build watches for
        change (input_reset_reason).
    -#}
    {{ return({
        'customers': {},
        'transactions': {'customer_id': 'customers'},
        'campaigns': {},
        'campaign_contacts': {'campaign_id': 'campaigns', 'customer_id': 'customers'},
    }) }}
{% endmacro %}


{% macro raw_column_aliases() %}
    {#-
        Common spellings of contract columns in exports (normalised: lowercase, non-alphanumerics
        as _), tried in this order when an input has no column of the contract's own name and
        var column_map names none: `CustomerID` and `Cust ID` are customer_id, `InvoiceDate`
        transaction_ts. The one list of them; the README shows it.
    -#}
    {{ return({
        'customer_id': ['customerid', 'cust_id', 'custid', 'client_id'],
        'transaction_id': ['invoiceno', 'invoice_no', 'invoice', 'order_id'],
        'transaction_ts': ['invoice_date', 'invoicedate', 'transaction_date', 'order_date'],
        'quantity': ['qty'],
        'unit_price': ['price', 'unitprice'],
    }) }}
{% endmacro %}


{% macro raw_origin() %}
    {#-
        Where the inputs are read from: 'seeds' (default: the bundled seeds, main_raw.raw_<name>),
        'files' (var raw_data_dir) or 'warehouse' (tables <name> in var raw_schema, of var
        raw_database when set). Setting both raw_data_dir and raw_schema is an error.
    -#}
    {%- set raw_dir = var('raw_data_dir', none) -%}
    {%- set raw_schema = var('raw_schema', none) -%}
    {%- if raw_dir is not none and raw_schema is not none -%}
        {%- do stop_build(
            "Set one of vars raw_data_dir (files) and raw_schema (warehouse tables), not both.") -%}
    {%- endif -%}
    {%- if raw_schema is none and var('raw_database', none) is not none -%}
        {%- do stop_build(
            "Var raw_database needs var raw_schema: the schema of that database the inputs are in.") -%}
    {%- endif -%}
    {%- if raw_schema is not none and target.type == 'spark'
        and var('raw_database', none) is not none -%}
        {%- do stop_build(
            "On Spark a metastore database is a schema: set raw_schema to it, without raw_database.") -%}
    {%- endif -%}
    {{ return('files' if raw_dir is not none else 'warehouse' if raw_schema is not none else 'seeds') }}
{% endmacro %}


{% macro raw_source_relation(name, record_seed=true, files=none, source_file=none) %}
    {#-
        The relation text input `name` is read from, or none when an optional input is absent.
        Seeds and warehouse tables are source('raw', name); for the seeds the seed's ref() is
        recorded too (at parse time), so that a build loads the seeds before the base models.
        Files are read as read_input_files.sql says (the source stays their lineage node).
        record_seed=false skips the seed's ref (source freshness, which runs outside the DAG).
        `files` (a list of paths from raw_files) reads only those files of a file input;
        `source_file` names a column to add that holds each row's file (or the table read).
    -#}
    {%- set origin = raw_origin() -%}
    {%- set relation = source('raw', name) -%}
    {%- if source_file is not none and origin != 'files' and execute -%}
        {%- set read = raw_source_relation(name, record_seed) -%}
        {{ return(none if read is none else '(select *, ' ~ custseg.sql_string(relation | string)
            ~ ' as ' ~ source_file ~ ' from ' ~ read ~ ')') }}
    {%- endif -%}
    {%- if origin == 'seeds' and not record_seed -%}
        {{ return(relation | string) }}
    {%- elif origin == 'seeds' -%}
        {%- set seed = ref('raw_' ~ name) -%}
        {%- if execute and (seed | string) != (relation | string) -%}
            {{ exceptions.raise_compiler_error(
                "source raw." ~ name ~ " is " ~ relation ~ " but its seed is " ~ seed
                ~ " (models/staging/raw/_raw__sources.yml must follow the seeds' schema).") }}
        {%- endif -%}
        {{ return(relation | string) }}
    {%- elif not execute -%}
        {#- Parsing: nothing is read yet; any valid relation text will do. -#}
        {{ return(none) }}
    {%- elif origin == 'warehouse' -%}
        {%- set found = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
        {%- if found is none and name == 'customers' -%}
            {%- do stop_build(
                "raw_schema: there is no table " ~ relation ~ ": customers is the one required input.") -%}
        {%- endif -%}
        {{ return(none if found is none else relation | string) }}
    {%- else -%}
        {%- set raw_dir = var('raw_data_dir') -%}
        {%- set path = adapter.dispatch('find_raw_file', 'custseg')(raw_dir, name) -%}
        {%- if path is none and name == 'customers' -%}
            {%- do stop_build(
                "raw_data_dir '" ~ raw_dir ~ "' has no customers.parquet or customers.csv: "
                ~ "customers is the one required input.") -%}
        {%- endif -%}
        {#- `files` narrows a directory of deliveries (<name>/*.parquet or *.csv); a single file is read whole. -#}
        {{ return(none if path is none
            else adapter.dispatch('read_raw_file', 'custseg')(
                files if files is not none and '/*.' in path else path,
                name, source_file)) }}
    {%- endif -%}
{% endmacro %}


{% macro raw_input_label(name) %}
    {#- How a message names input `name`: its file, or its table. -#}
    {%- set origin = raw_origin() -%}
    {%- if origin == 'files' and execute -%}
        {{ return(adapter.dispatch('find_raw_file', 'custseg')(var('raw_data_dir'), name)) }}
    {%- endif -%}
    {{ return(source('raw', name) | string) }}
{% endmacro %}


{% macro normalise_column_name(column) %}
    {#-
        A column name as the contract spells it: lowercase, each run of non-alphanumerics as _
        (`Spending Score` is spending_score). Input headers and the names in feature-list vars
        (segmentation_features, extra_features) go through it; the fit's Python twin is
        custseg.settings.normalise_name (tests/python/test_settings.py checks they agree).
    -#}
    {{ return(modules.re.sub('[^a-z0-9]+', '_', column | string | lower).strip('_')) }}
{% endmacro %}


{% macro raw_input_columns(name, from_sql, present=none) %}
    {#-
        How the columns of input `name` (read from relation text `from_sql`) meet the contract:
        a dict of `contract` (contract column -> the input's quoted column, or none), `extras`
        (normalised name -> quoted column: the input columns no contract column took), `found`
        (the input's columns as written). A contract column takes, in order: the input column
        var column_map names for it ({customers: {membership_tier: membership_type}}), the
        column of its own name, the first of its raw_column_aliases present. A column_map entry
        that names no contract column or no column of the input, or an input without one of its
        raw_required_columns, stops the build with one line naming the input. `present`, the
        input's columns as raw_columns gives them, saves reading them from `from_sql`.
    -#}
    {%- set contract = raw_contract()[name] -%}
    {%- set present = raw_columns(from_sql) if present is none else present -%}
    {%- set found = [] -%}
    {%- for column in present.values() -%}
        {%- do found.append(column.strip('"').strip('`')) -%}
    {%- endfor -%}
    {%- set column_map = var('column_map', none) or {} -%}
    {%- for input in column_map if input not in raw_contract() -%}
        {%- do stop_build(
            "column_map: '" ~ input ~ "' is not an input; the inputs are "
            ~ raw_contract().keys() | join(', ') ~ ".") -%}
    {%- endfor -%}
    {%- set mapped = {} -%}
    {%- for key, theirs in (column_map.get(name) or {}).items() -%}
        {%- set column = normalise_column_name(key) -%}
        {%- if column not in contract -%}
            {%- do stop_build(
                "column_map." ~ name ~ ": '" ~ column ~ "' is not a contract column of " ~ name
                ~ "; they are " ~ contract | join(', ') ~ ".") -%}
        {%- endif -%}
        {%- if execute and normalise_column_name(theirs) not in present -%}
            {%- do stop_build(
                "column_map." ~ name ~ "." ~ column ~ ": " ~ raw_input_label(name) ~ " has no column '"
                ~ theirs ~ "'; its columns are " ~ found | join(', ') ~ ".") -%}
        {%- endif -%}
        {%- do mapped.update({column: normalise_column_name(theirs)}) -%}
    {%- endfor -%}
    {%- set aliases = raw_column_aliases() -%}
    {%- set taken = mapped.values() | list -%}
    {%- for column in contract if column not in mapped -%}
        {%- for candidate in [column] + aliases.get(column, []) -%}
            {%- if column not in mapped and candidate in present and candidate not in taken -%}
                {%- do mapped.update({column: candidate}) -%}
                {%- do taken.append(candidate) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set missing = [] -%}
    {%- for column in raw_required_columns()[name] if column not in mapped -%}
        {%- do missing.append(column) -%}
    {%- endfor -%}
    {%- if execute and missing -%}
        {%- do stop_build(
            raw_input_label(name) ~ " has columns " ~ found | join(', ') ~ " but " ~ name
            ~ " needs " ~ missing | join(', ') ~ ": map yours with var column_map, e.g. {"
            ~ name ~ ": {" ~ missing[0] ~ ": your_column}}.") -%}
    {%- endif -%}
    {%- set columns = {} -%}
    {%- for column in contract -%}
        {%- do columns.update({column: present.get(mapped.get(column))}) -%}
    {%- endfor -%}
    {%- set extras = {} -%}
    {%- for column, original in present.items() if column not in taken -%}
        {%- do extras.update({column: original}) -%}
    {%- endfor -%}
    {{ return({'contract': columns, 'extras': extras, 'found': found}) }}
{% endmacro %}


{% macro report_unmapped_columns(name) %}
    {#-
        Says in the build log which columns of input `name` no contract column took: customers
        keeps them (numeric ones become features, every one stays in raw_record); the other
        inputs do not read them, so a misspelt header shows here rather than as empty values.
    -#}
    {%- if execute -%}
        {%- set from_sql = raw_source_relation(name) -%}
        {%- if from_sql is not none -%}
            {%- set extras = [] -%}
            {%- for column in raw_input_columns(name, from_sql)['extras'].values() -%}
                {%- do extras.append(column.strip('"').strip('`')) -%}
            {%- endfor -%}
            {%- if extras and name == 'customers' -%}
                {%- do log(raw_input_label(name) ~ ": columns beyond the contract, kept as customer "
                    ~ "attributes: " ~ extras | join(', '), info=True) -%}
            {%- elif extras -%}
                {%- do log(raw_input_label(name) ~ ": columns that map to no contract column of "
                    ~ name ~ ", which the project does not use: " ~ extras | join(', ')
                    ~ " (var column_map maps them: {" ~ name ~ ": {contract_column: your_column}})",
                    info=True) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{% macro raw_source(name, files=none, source_file=none) %}
    {#-
        `files` and `source_file` as raw_source_relation: only those files of a file input
        (none of them: an empty list), and a column `source_file` naming each row's file.
    -#}
    {%- set contract = raw_contract()[name] -%}
    {%- set from_sql = none if files == [] else raw_source_relation(name, files=files) -%}

    {%- if from_sql is none -%}
        (select {% for column in contract -%}
            cast(null as {{ dbt.type_string() }}) as {{ column }}{{ ", " if not loop.last }}
        {%- endfor %}
        {%- if source_file is not none -%}
            , cast(null as {{ dbt.type_string() }}) as {{ source_file }}
        {%- endif %} where 1 = 0)
    {%- else -%}
        {%- set columns = raw_input_columns(name, from_sql) -%}
        {%- set derived = derived_column_names() -%}
        {%- set selects = [] -%}
        {%- for column in contract -%}
            {%- do selects.append('cast(' ~ (columns['contract'][column] or 'null') ~ ' as '
                ~ dbt.type_string() ~ ') as ' ~ column) -%}
        {%- endfor -%}
        {%- for column, original in columns['extras'].items() -%}
            {%- do selects.append(original ~ ' as ' ~ raw_extra_alias(column, derived)) -%}
        {%- endfor -%}
        {%- if source_file is not none -%}
            {%- do selects.append(source_file) -%}
            {%- set from_sql = raw_source_relation(name, files=files, source_file=source_file) -%}
        {%- endif -%}
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
            {%- do columns.update({normalise_column_name(original): adapter.quote(original)}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(columns) }}
{% endmacro %}


{% macro raw_extra_alias(column, derived) %}
    {#-
        The name an extra input column (normalised) goes by downstream: its own, with an _input
        suffix when the project derives a column of that name (`derived`:
        derived_column_names()), so your pre-computed Frequency never overwrites frequency.
    -#}
    {{ return(column ~ '_input' if column in derived else column) }}
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
