{#- Every raw campaign row, typed, with the first reason it fails validation (null = accepted). -#}
{%- set contract = raw_contract()['campaigns'] -%}

with

source as (
    select * from {{ raw_source('campaigns') }}
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
            when raw_start_date is not null and start_date is null then 'invalid_start_date'
            when raw_end_date is not null and end_date is null then 'invalid_end_date'
            when end_date < start_date then 'invalid_date_range'
        end as row_reason
    from typed
),

ranked as (
    select
        *,
        row_number() over (
            partition by campaign_id
            order by
                row_reason nulls first
                {%- for column in contract %}, raw_{{ column }}{% endfor %}
        ) as id_occurrence
    from checked
),

validated as (
    select
        *,
        coalesce(
            row_reason,
            case when id_occurrence > 1 then 'duplicate_campaign_id' end
        ) as reject_reason
    from ranked
)

select
    campaign_id,
    campaign_name,
    channel,
    offer_type,
    start_date,
    end_date,
    reject_reason,
    case when reject_reason is not null then {{ columns_to_json(contract, prefix='raw_') }} end
        as raw_record
from validated
