{#-
    Every raw campaign contact, typed, with the first reason it fails validation (null =
    accepted). One contact per campaign and customer: later copies are duplicate_contact.
-#}
{%- set contract = raw_contract()['campaign_contacts'] -%}

with

source as (
    select * from {{ raw_source('campaign_contacts') }}
),

campaigns as (
    select campaign_id from {{ ref('base_campaigns') }}
    where reject_reason is null
),

customers as (
    select customer_id from {{ ref('base_customers') }}
    where reject_reason is null
),

typed as (
    select
        {% for column in contract -%}
            {{ column }} as raw_{{ column }},
        {% endfor -%}
        nullif(trim(campaign_id), '') as campaign_id,
        nullif(trim(customer_id), '') as customer_id,
        try_cast(trim(contacted_at) as timestamp) as contacted_at,
        case
            when lower(trim(responded)) in ('true', 't', 'yes', 'y', '1') then true
            when lower(trim(responded)) in ('false', 'f', 'no', 'n', '0') then false
        end as responded,
        try_cast(trim(response_revenue) as double) as response_revenue
    from source
),

checked as (
    select
        typed.*,
        case
            when typed.campaign_id is null then 'missing_campaign_id'
            when typed.customer_id is null then 'missing_customer_id'
            when typed.raw_responded is not null and typed.responded is null
                then 'invalid_responded'
            when typed.raw_response_revenue is not null
                and not coalesce(typed.response_revenue >= 0, false)
                then 'invalid_response_revenue'
            when campaigns.campaign_id is null then 'orphan_campaign_id'
            when customers.customer_id is null then 'orphan_customer_id'
        end as row_reason
    from typed
    left join campaigns on typed.campaign_id = campaigns.campaign_id
    left join customers on typed.customer_id = customers.customer_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by campaign_id, customer_id
            order by
                row_reason nulls first
                {%- for column in contract %}, raw_{{ column }}{% endfor %}
        ) as contact_occurrence
    from checked
),

validated as (
    select
        *,
        coalesce(
            row_reason,
            case when contact_occurrence > 1 then 'duplicate_contact' end
        ) as reject_reason
    from ranked
)

select
    campaign_id,
    customer_id,
    contacted_at,
    coalesce(responded, false) as responded,
    coalesce(response_revenue, 0) as response_revenue,
    reject_reason,
    case when reject_reason is not null then {{ columns_to_json(contract, prefix='raw_') }} end
        as raw_record
from validated
