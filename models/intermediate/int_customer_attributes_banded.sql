{#-
    Customer attributes with age and income bands and tenure as of the build's date; the extra
    attributes of the input (numeric and text) as staged.
-#}
{%- set extras = [] -%}
{%- for column, is_numeric in staged_extra_columns() -%}
    {%- do extras.append(column) -%}
{%- endfor -%}

with

customers as (
    select * from {{ ref('stg_customers') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

banded as (
    select
        customers.customer_id,
        customers.signup_date,
        {{ days_between('customers.signup_date', 'as_of.as_of_date') }} as tenure_days,
        customers.age,
        {{ band_label('customers.age', var('age_band_edges')) }} as age_band,
        customers.annual_income,
        {{ band_label('customers.annual_income', var('income_band_edges'), unit='k') }}
            as income_band,
        customers.gender,
        customers.city,
        customers.membership_tier,
        {%- for column in extras %}
            customers.{{ column }},
        {%- endfor %}
        customers.has_email
    from customers
    cross join as_of
)

select * from banded
