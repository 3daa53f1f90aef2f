{#-
    Customer input columns beyond the contract: staging keeps every one in raw_record and types
    the numeric ones, which become features (README, "Your own data").
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


{% macro raw_extra_numeric_columns() %}
    {#-
        Extra customer attributes beyond the contract whose every non-null value is a number
        (as to_number reads them: '$1,200' is one):
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
                    and count({{ column }}) = count(try_cast({{ number_text(
                        'trim(cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ '))') }} as double))
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
