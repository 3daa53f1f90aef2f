{#-
    Personal data stops at staging: no column of any model, snapshot or seed-free relation built
    outside models/staging may be named like personal data (macro pii_column_pattern: email,
    phone, names, addresses, birth dates, identity and payment numbers; has_email is a flag and
    allowed). The relations come from the project graph, so new models are covered too, in
    whichever layer's schema they are built.
    tests/python/test_bad_input.py runs the same scan on a build fed PII-named input columns.
-#}
-- depends_on: {{ ref('int_customer_features') }}
-- depends_on: {{ ref('dim_customer_segments') }}
-- depends_on: {{ ref('segment_feature_profiles') }}
{%- set downstream = [] -%}
{%- set schemas = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values()
        if node.resource_type in ['model', 'snapshot']
        and not node.original_file_path.startswith('models/staging/') -%}
        {%- do downstream.append("'" ~ node.alias | lower ~ "'") -%}
        {%- if node.schema not in schemas -%}
            {%- do schemas.append(node.schema) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

with

downstream_columns as (
    select
        table_name,
        column_name
    from {{ catalog_columns(schemas) }} as catalog_columns
    where lower(table_name) in ({{ downstream | join(', ') }})
),

personal_data as (
    select * from downstream_columns
    where
        lower(column_name) != 'has_email'
        and {{ matches_pattern('lower(column_name)', pii_column_pattern()) }}
)

select * from personal_data
