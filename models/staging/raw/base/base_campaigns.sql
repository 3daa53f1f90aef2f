{#-
    Every raw campaign row, typed, with the first reason it fails validation (null = accepted).
    A date that does not parse or lies before min_valid_ts is invalid. Of rows sharing a
    campaign_id the first valid one is kept; the others are duplicate_campaign_id when every raw
    value equals the kept row's, else conflicting_campaign_id. CSV records DuckDB cannot parse
    are csv_* rejects.
-#}
{{ config(
    pre_hook="{{ custseg.capture_raw_input('campaigns') }}",
    post_hook="{{ custseg.release_raw_input('campaigns') }}",
) }}
{%- set contract = raw_contract()['campaigns'] -%}
{%- set keys = raw_keys()['campaigns'] -%}
{%- set min_valid_date = custseg.min_valid_ts()[:10] -%}
{%- set formats = custseg.input_timestamp_formats('campaigns') -%}

with

source as (
    select * from {{ raw_input('campaigns') }}
),

malformed as (
    select * from {{ raw_malformed_rows('campaigns') }}
),

typed as (
    select
        {{- raw_values(contract) }}
        {{ to_id('campaign_id') }} as campaign_id,
        nullif(trim(campaign_name), '') as campaign_name,
        {{ to_code('channel') }} as channel,
        {{ to_code('offer_type') }} as offer_type,
        {{ parse_date('start_date', formats['start_date']) }} as start_date,
        {{ parse_date('end_date', formats['end_date']) }} as end_date
    from source
),

checked as (
    select
        *,
        case
            when campaign_id is null then 'missing_campaign_id'
            when raw_start_date is not null
                and not coalesce(start_date >= cast('{{ min_valid_date }}' as date), false)
                then 'invalid_start_date'
            when raw_end_date is not null
                and not coalesce(end_date >= cast('{{ min_valid_date }}' as date), false)
                then 'invalid_end_date'
            when end_date < start_date then 'invalid_date_range'
        end as _row_reason
    from typed
),

validated as (
    select * from {{ reject_copies(
        'checked', keys, contract, '_row_reason nulls first', 'campaign_id'
    ) }}
),

parsed_rows as (
    select
        campaign_id,
        campaign_name,
        channel,
        offer_type,
        start_date,
        end_date,
        reject_reason,
        {{ raw_record_if_rejected(contract) }} as raw_record
    from validated
),

all_rows as (
    {{ with_malformed_rows('parsed_rows', 'malformed', contract) }}
)

select * from all_rows
