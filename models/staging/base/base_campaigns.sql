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
{%- set min_valid_date = custseg.min_valid_ts()[:10] -%}

{#- The rows sharing a key, best first: the first is kept. -#}
{%- set copy_order -%}
    _row_reason nulls first
    {%- for column in contract %}, raw_{{ column }}{% endfor %}
{%- endset %}
{%- set row_json = columns_to_json(contract, prefix='raw_') -%}

with

source as (
    select * from {{ raw_input('campaigns') }}
),

malformed as (
    select * from {{ raw_malformed_rows('campaigns') }}
),

typed as (
    select
        {% for column in contract -%}
            {{ column }} as raw_{{ column }},
        {% endfor -%}
        nullif(trim(campaign_id), '') as campaign_id,
        nullif(trim(campaign_name), '') as campaign_name,
        nullif(replace(lower(trim(channel)), ' ', '_'), '') as channel,
        nullif(replace(lower(trim(offer_type)), ' ', '_'), '') as offer_type,
        try_cast(trim(start_date) as date) as start_date,
        try_cast(trim(end_date) as date) as end_date
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

ranked as (
    select * from {{ rank_copies('checked', ['campaign_id'], copy_order, row_json) }}
),

validated as (
    select
        *,
        coalesce(
            _row_reason,
            case
                when _copy_number > 1 and _same_as_kept then 'duplicate_campaign_id'
                when _copy_number > 1 then 'conflicting_campaign_id'
            end
        ) as reject_reason
    from ranked
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
        case when reject_reason is not null then {{ row_json }} end as raw_record
    from validated
),

malformed_rows as (
    {{ malformed_as_rows('malformed', contract) }}
),

all_rows as (
    select * from parsed_rows
    union all
    select * from malformed_rows
)

select * from all_rows
