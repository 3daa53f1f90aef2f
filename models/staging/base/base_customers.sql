{#-
    Every raw customer row, typed, with the first reason it fails validation (null = accepted).
    Invalid optional values (age outside 16-110, non-numeric income) become null and are listed
    in invalid_attributes instead of rejecting the customer.
-#}
{%- set contract = raw_contract()['customers'] -%}
{%- set extras = raw_extra_numeric_columns() -%}
{%- set non_null_terms = [] -%}
{%- for column in contract -%}
    {%- do non_null_terms.append('(case when ' ~ column ~ ' is not null then 1 else 0 end)') -%}
{%- endfor -%}

with

source as (
    select * from {{ raw_source('customers') }}
),

typed as (
    select
        {% for column in contract -%}
            {{ column }} as raw_{{ column }},
        {% endfor -%}
        nullif(trim(customer_id), '') as customer_id,
        try_cast(trim(signup_date) as date) as signup_date,
        try_cast(trim(age) as double) as age_number,
        nullif(lower(trim(gender)), '') as gender,
        nullif(lower(trim(city)), '') as city,
        nullif(lower(trim(membership_tier)), '') as membership_tier,
        try_cast(trim(annual_income) as double) as income_number,
        {%- for column in extras %}
            cast({{ column }} as varchar) as raw_{{ column }},
            try_cast(cast({{ column }} as varchar) as double) as {{ column }},
        {%- endfor %}
        {{ non_null_terms | join(' + ') }} as non_null_values
    from source
),

cleaned as (
    select
        *,
        case when age_number between 16 and 110 then cast(floor(age_number) as integer) end as age,
        case when income_number >= 0 then income_number end as annual_income,
        nullif(concat_ws(
            ',',
            case
                when raw_age is not null and not coalesce(age_number between 16 and 110, false)
                    then 'age'
            end,
            case
                when raw_annual_income is not null and not coalesce(income_number >= 0, false)
                    then 'annual_income'
            end,
            case
                when raw_signup_date is not null and signup_date is null then 'signup_date'
            end
        ), '') as invalid_attributes
    from typed
),

ranked as (
    select
        *,
        -- Of rows sharing an id keep the most complete one; ties go to the smallest raw values,
        -- so the choice never depends on the order rows were read in.
        row_number() over (
            partition by customer_id
            order by
                non_null_values desc
                {%- for column in contract %}, raw_{{ column }}{% endfor %}
        ) as id_occurrence
    from cleaned
),

validated as (
    select
        *,
        case
            when customer_id is null then 'missing_customer_id'
            when id_occurrence > 1 then 'duplicate_customer_id'
        end as reject_reason
    from ranked
)

select
    customer_id,
    signup_date,
    age,
    gender,
    city,
    membership_tier,
    annual_income,
    raw_email as email,
    {%- for column in extras %}
        {{ column }},
    {%- endfor %}
    invalid_attributes,
    reject_reason,
    case when reject_reason is not null then {{ columns_to_json(contract + extras, prefix='raw_') }} end as raw_record
from validated
