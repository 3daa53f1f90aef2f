{#-
    Customer input columns beyond the contract: staging keeps every one in raw_record, types the
    numeric ones (numeric features) and keeps the text ones with few distinct values, cleaned
    (categorical features); README, "Your own data" and "Categorical features".
-#}

{% macro raw_extra_columns() %}
    {#- Customer input columns beyond the contract (normalised names, as raw_source gives them). -#}
    {%- set contract = raw_contract()['customers'] -%}
    {%- set extras = [] -%}
    {%- for column in raw_columns(raw_source('customers')) if column not in contract -%}
        {%- do extras.append(column) -%}
    {%- endfor -%}
    {{ return(extras) }}
{% endmacro %}


{% macro input_extra_columns() %}
    {#-
        The extra columns of the customers input that could be features (named as raw_source
        names them; none named like personal data), from the input's header alone: what the
        settings check knows before any model builds (check_settings). The bundled seeds are
        read from their file, which a new database has not loaded yet.
    -#}
    {%- set seed = graph.nodes.get('seed.' ~ project_name ~ '.raw_customers') -%}
    {%- if raw_origin() == 'seeds' and seed is not none -%}
        {%- set present = {} -%}
        {%- for column in csv_header(seed.root_path ~ '/' ~ seed.original_file_path) -%}
            {%- do present.update({normalise_column_name(column): adapter.quote(column)}) -%}
        {%- endfor -%}
        {%- set derived = derived_column_names() -%}
        {%- set columns = [] -%}
        {%- for column in raw_input_columns('customers', none, present)['extras'] -%}
            {%- do columns.append(raw_extra_alias(column, derived)) -%}
        {%- endfor -%}
    {%- else -%}
        {%- set columns = raw_extra_columns() -%}
    {%- endif -%}
    {%- set features = [] -%}
    {%- for column in columns if not is_pii_column(column) -%}
        {%- do features.append(column) -%}
    {%- endfor -%}
    {{ return(features) }}
{% endmacro %}


{% macro raw_extra_column_kinds() %}
    {#-
        The extra customer columns staging keeps, in input order, as (column, kind) pairs: kind
        'boolean' when every non-null value is a boolean as to_boolean reads it (true/false,
        yes/no, t/f, y/n, 1/0 in any case: a TRUE/FALSE export column is a flag, not a
        two-level text), else 'numeric' when every one is a number (as to_number reads them:
        '$1,200' is one), else 'text' when its cleaned values (clean_text) pass
        categorical_levels_rule. Other columns (empty ones, free text, ids) stay only in
        raw_record. A column named like personal data (pii_column_pattern: a phone number is
        all digits) is never kept. One query over the raw input, for staging; later layers
        read the staged columns off stg_customers (extra_numeric_columns, extra_text_columns).

        A text column that var segmentation_features asks for but that fails the rule stops
        the build with one line naming the column and the rule.
    -#}
    {%- set source_sql = raw_source('customers') -%}
    {%- set kinds = [] -%}
    {%- if execute -%}
        {%- set candidates = [] -%}
        {%- for column in raw_extra_columns() if not is_pii_column(column) -%}
            {%- do candidates.append(column) -%}
        {%- endfor -%}
        {%- if candidates -%}
            {%- set checks -%}
                select
                {%- for column in candidates %}
                    {%- set text = 'cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')' %}
                    count({{ column }}) > 0
                    and count({{ column }}) = count({{ to_boolean(text) }})
                    as {{ column }}__is_boolean,
                    count({{ column }}) > 0
                    and count({{ column }}) = count(try_cast({{ number_text(
                        'trim(' ~ text ~ ')') }} as double))
                    as {{ column }}__is_numeric,
                    count(distinct {{ clean_text(text) }}) as {{ column }}__levels,
                    count({{ clean_text(text) }}) as {{ column }}__values{{ "," if not loop.last }}
                {%- endfor %}
                from {{ source_sql }} as raw_customers
            {%- endset -%}
            {%- set row = run_query(checks).rows[0] -%}
            {%- set requested = [] -%}
            {%- for name in var('segmentation_features', none) or [] -%}
                {%- do requested.append(normalise_column_name(name)) -%}
            {%- endfor -%}
            {%- set refused = [] -%}
            {%- for column in candidates -%}
                {%- set levels = row[4 * loop.index0 + 2] | int -%}
                {%- set values = row[4 * loop.index0 + 3] | int -%}
                {%- if row[4 * loop.index0] -%}
                    {%- do kinds.append((column, 'boolean')) -%}
                {%- elif row[4 * loop.index0 + 1] -%}
                    {%- do kinds.append((column, 'numeric')) -%}
                {%- elif values > 0 and categorical_levels_rule(levels, values) is none -%}
                    {%- do kinds.append((column, 'text')) -%}
                {%- elif values > 0 and column in requested -%}
                    {%- do refused.append(
                        "var segmentation_features names " ~ column ~ ", a text column of the "
                        ~ "customers input that is not a categorical feature: "
                        ~ categorical_levels_rule(levels, values)) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if refused -%}
                {#- One line per column asked for. -#}
                {%- do stop_build(refused | join('\n')) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(kinds) }}
{% endmacro %}


{% macro categorical_levels_rule(levels, values) %}
    {#-
        Why a text column with `levels` distinct cleaned values among `values` non-empty ones
        can not be a categorical feature, or none when it can: at most var
        max_categorical_levels distinct values, and no more than half as many distinct values
        as non-empty ones (an id, a free-text note or a timestamp is mostly unique; each of its
        values would be a level of one or two customers).
    -#}
    {%- set max_levels = var('max_categorical_levels') | int -%}
    {%- set rule = 'a categorical feature has at most max_categorical_levels (' ~ max_levels
        ~ ') distinct values and no more than half as many distinct values as non-empty ones' -%}
    {%- if levels > max_levels or 2 * levels > values -%}
        {{ return(levels ~ ' distinct values in ' ~ values ~ ' non-empty ones, but ' ~ rule
                  ~ ' (an id or free text is not one).') }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{% macro staged_extra_columns(model_name='stg_customers') %}
    {#-
        The extra customer attributes as staged in stg_customers (or base_customers), in its
        column order, as (column, is_numeric) pairs: its columns that its documentation does
        not list, numeric when their type is a number (to_number's double), else text
        (clean_text) or boolean (to_boolean), both categorical. Read off the built relation without a ref(), so calling this adds no
        lineage edge (every caller is downstream of the model anyway).
    -#}
    {%- set extras = [] -%}
    {#- Unit tests run without the graph: their fixtures have no extra columns. -#}
    {%- set node = graph.get('nodes', {}).get('model.' ~ project_name ~ '.' ~ model_name) -%}
    {%- if execute and node is not none -%}
        {%- set staged = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- for column in (adapter.get_columns_in_relation(staged) if staged else []) -%}
            {%- if column.name | lower not in node.columns -%}
                {%- do extras.append((column.name | lower, column.is_number())) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(extras) }}
{% endmacro %}


{% macro extra_numeric_columns() %}
    {#- The extra numeric customer attributes of stg_customers: numeric features. -#}
    {%- set names = [] -%}
    {%- for column, is_numeric in staged_extra_columns() if is_numeric -%}
        {%- do names.append(column) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}


{% macro extra_text_columns() %}
    {#- The extra text and boolean customer attributes of stg_customers: categorical features. -#}
    {%- set names = [] -%}
    {%- for column, is_numeric in staged_extra_columns() if not is_numeric -%}
        {%- do names.append(column) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}
