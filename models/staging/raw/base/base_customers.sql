{#-
    Every raw customer row, typed, with the first reason it fails validation (null = accepted).
    Text attributes are trimmed and lowercased, empty as null (clean_text), the extra text
    columns kept as categorical features too, and extra columns of booleans (TRUE/FALSE,
    yes/no...) read by to_boolean (raw_extra_column_kinds). Invalid optional
    values (age outside 16-110, non-numeric, non-finite or negative income, a signup date that
    does not parse or lies outside min_valid_ts..max_valid_ts, an extra numeric attribute that
    is not a finite number) become null and are listed in invalid_attributes instead of
    rejecting the customer. Of rows sharing an id the most complete is kept; the others are
    duplicate_customer_id when every raw value equals the kept row's, else
    conflicting_customer_id. CSV records DuckDB cannot parse are csv_* rejects.
-#}
{{ config(
    pre_hook="{{ custseg.capture_raw_input('customers') }}",
    post_hook="{{ custseg.release_raw_input('customers') }}",
) }}
{%- set contract = raw_contract()['customers'] -%}
{%- set keys = raw_keys()['customers'] -%}
{#- Every extra input column is kept as text in raw_record; the numeric ones are typed, the
    text ones with few distinct values cleaned, in input order (staged_extras). -#}
{%- set kept_extras = raw_extra_columns() -%}
{%- set staged_extras = [] -%}
{%- set extras = [] -%}
{%- set extra_kinds = {} -%}
{%- for column, kind in raw_extra_column_kinds() -%}
    {%- do staged_extras.append(column) -%}
    {%- do extra_kinds.update({column: kind}) -%}
    {%- if kind == 'numeric' -%}
        {%- do extras.append(column) -%}
    {%- endif -%}
{%- endfor -%}
{%- set parse_extra = {'numeric': to_number, 'boolean': to_boolean, 'text': clean_text} -%}
{#- An extra numeric attribute that is not a finite number is named too. -#}
{%- set extra_attribute_checks = [] -%}
{%- for column in extras -%}
    {%- do extra_attribute_checks.append(
        ",\n            case when nullif(trim(raw_" ~ column ~ "), '') is not null and "
        ~ column ~ " is null then '" ~ column ~ "' end") -%}
{%- endfor -%}
{%- set extra_attribute_checks = extra_attribute_checks | join('') -%}
{%- set min_valid_ts = custseg.min_valid_ts() -%}
{%- set formats = custseg.input_timestamp_formats('customers') -%}
{%- set max_valid_ts = custseg.max_valid_ts() -%}
{%- set non_null_terms = [] -%}
{%- for column in contract -%}
    {%- do non_null_terms.append('(case when ' ~ column ~ ' is not null then 1 else 0 end)') -%}
{%- endfor -%}

with

source as (
    select * from {{ raw_input('customers') }}
),

malformed as (
    select * from {{ raw_malformed_rows('customers') }}
),

typed as (
    select
        {{- raw_values(contract) }}
        {{ to_id('customer_id') }} as customer_id,
        {{ parse_date('signup_date', formats['signup_date']) }} as _signup_date_value,
        {{ to_number('age') }} as _age_number,
        {{ clean_text('gender') }} as gender,
        {{ clean_text('city') }} as city,
        {{ clean_text('membership_tier') }} as membership_tier,
        {{ to_number('annual_income') }} as _income_number,
        {%- for column in kept_extras %}
            cast({{ column }} as {{ dbt.type_string() }}) as raw_{{ column }},
        {%- endfor %}
        {%- for column in staged_extras %}
            {%- set text = 'cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')' %}
            {{ parse_extra[extra_kinds[column]](text) }} as {{ column }},
        {%- endfor %}
        {{ non_null_terms | join(' + ') }} as _non_null_values
    from source
),

cleaned as (
    select
        *,
        case when _age_number between 16 and 110 then cast(floor(_age_number) as integer) end as age,
        case when _income_number >= 0 then _income_number end as annual_income,
        case
            when _signup_date_value between cast('{{ min_valid_ts[:10] }}' as date)
                and cast('{{ max_valid_ts[:10] }}' as date)
                then _signup_date_value
        end as signup_date,
        nullif(concat_ws(
            ',',
            case
                when raw_age is not null and not coalesce(_age_number between 16 and 110, false)
                    then 'age'
            end,
            case
                when raw_annual_income is not null and not coalesce(_income_number >= 0, false)
                    then 'annual_income'
            end,
            case
                when raw_signup_date is not null and not coalesce(
                        _signup_date_value between cast('{{ min_valid_ts[:10] }}' as date)
                        and cast('{{ max_valid_ts[:10] }}' as date),
                        false
                    )
                    then 'signup_date'
            end{{ extra_attribute_checks }}
        ), '') as invalid_attributes,
        case when customer_id is null then 'missing_customer_id' end as _row_reason
    from typed
),

validated as (
    -- Of rows sharing an id keep the most complete one; ties go to the smallest raw values,
    -- so the choice never depends on the order rows were read in.
    select * from {{ reject_copies(
        'cleaned', keys, contract + kept_extras, '_non_null_values desc', 'customer_id'
    ) }}
),

parsed_rows as (
    select
        customer_id,
        signup_date,
        age,
        gender,
        city,
        membership_tier,
        annual_income,
        raw_email as email,
        {%- for column in staged_extras %}
            {{ column }},
        {%- endfor %}
        invalid_attributes,
        reject_reason,
        {{ raw_record_if_rejected(contract + kept_extras) }} as raw_record
    from validated
),

all_rows as (
    {{ with_malformed_rows('parsed_rows', 'malformed', contract + staged_extras + ['invalid_attributes']) }}
)

select * from all_rows
