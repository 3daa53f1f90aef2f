{#- email is PII: no intermediate or mart model may carry a column named like it. -#}
-- depends_on: {{ ref('int_customer_features') }}
-- depends_on: {{ ref('dim_customer_segments') }}
-- depends_on: {{ ref('segment_feature_profiles') }}

select
    table_name,
    column_name
from information_schema.columns
where
    table_schema = '{{ target.schema }}'
    and lower(column_name) like '%email%'
    and lower(column_name) != 'has_email'
    and (
        lower(table_name) like 'int\_%' escape '\' or lower(table_name) like 'dim\_%' escape '\'
        or lower(table_name) like 'fct\_%' escape '\' or lower(table_name) like 'segment\_%' escape '\'
    )
