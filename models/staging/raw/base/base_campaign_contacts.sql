{#-
    Every raw campaign contact, typed, with the first reason it fails validation (null =
    accepted). A contacted_at that does not parse or lies outside min_valid_ts..max_valid_ts is
    invalid. One contact per campaign and customer, the first valid one: later copies are
    duplicate_contact when every raw value equals the kept row's, else conflicting_contact. CSV
    records DuckDB cannot parse are csv_* rejects.
-#}
{{ config(
    pre_hook="{{ custseg.capture_raw_input('campaign_contacts') }}",
    post_hook="{{ custseg.release_raw_input('campaign_contacts') }}",
) }}
{%- set contract = raw_contract()['campaign_contacts'] -%}
{%- set min_valid_ts = custseg.min_valid_ts() -%}
{%- set max_valid_ts = custseg.max_valid_ts() -%}
{%- set formats = custseg.input_timestamp_formats('campaign_contacts') -%}

with

source as (
    select * from {{ raw_input('campaign_contacts') }}
),

malformed as (
    select * from {{ raw_malformed_rows('campaign_contacts') }}
),

campaigns as (
    select campaign_id from {{ ref('base_campaigns') }}
    where reject_reason is null
),

customers as (
    {{ accepted_customer_ids() }}
),

typed as (
    select
        {{- raw_values(contract) }}
        {{ to_id('campaign_id') }} as campaign_id,
        {{ to_id('customer_id') }} as customer_id,
        {{ parse_timestamp('contacted_at', formats['contacted_at']) }} as contacted_at,
        {{ to_boolean('responded') }} as responded,
        {{ to_number('response_revenue') }} as response_revenue
    from source
),

checked as (
    select
        typed.*,
        case
            when typed.campaign_id is null then 'missing_campaign_id'
            when typed.customer_id is null then 'missing_customer_id'
            when typed.raw_contacted_at is not null and not coalesce(
                    typed.contacted_at between cast('{{ min_valid_ts }}' as timestamp)
                    and cast('{{ max_valid_ts }}' as timestamp),
                    false
                )
                then 'invalid_contacted_at'
            when typed.raw_responded is not null and typed.responded is null
                then 'invalid_responded'
            when typed.raw_response_revenue is not null
                and not coalesce(typed.response_revenue >= 0, false)
                then 'invalid_response_revenue'
            when campaigns.campaign_id is null then 'orphan_campaign_id'
            when customers.customer_id is null then 'orphan_customer_id'
        end as _row_reason
    from typed
    left join campaigns on typed.campaign_id = campaigns.campaign_id
    left join customers on typed.customer_id = customers.customer_id
),

validated as (
    select * from {{ reject_copies(
        'checked', ['campaign_id', 'customer_id'], contract, '_row_reason nulls first', 'contact'
    ) }}
),

parsed_rows as (
    select
        campaign_id,
        customer_id,
        contacted_at,
        coalesce(responded, false) as responded,
        coalesce(response_revenue, 0) as response_revenue,
        reject_reason,
        {{ raw_record_if_rejected(contract) }} as raw_record
    from validated
),

all_rows as (
    {{ with_malformed_rows('parsed_rows', 'malformed', contract) }}
)

select * from all_rows
