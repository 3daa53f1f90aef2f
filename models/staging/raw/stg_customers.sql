{#-
    Accepted customers: one row per customer_id, typed and cleaned. email is PII and stops
    here; only has_email travels on. The extra attributes base_customers staged (numbers, and
    text with few distinct values: raw_extra_column_kinds) follow the contract's, in input
    order, read off base_customers rather than classified again.
-#}
{%- set extras = [] -%}
{%- for column, is_numeric in staged_extra_columns('base_customers') -%}
    {%- do extras.append(column) -%}
{%- endfor -%}

with

validated as (
    select * from {{ ref('base_customers') }}
    where reject_reason is null
)

select
    customer_id,
    signup_date,
    age,
    gender,
    city,
    membership_tier,
    annual_income,
    {%- for column in extras %}
        {{ column }},
    {%- endfor %}
    email is not null and trim(email) != '' as has_email,
    invalid_attributes
from validated
