{#-
    A target list for the next campaign: the customers of one segment who have not been
    contacted by any campaign in the last N days, best customers first.

    Vars (all optional, e.g. --vars '{target_segment_id: 2, target_quiet_days: 60}'):
    - target_segment_id: the segment to target. Default: the segment that responds best to
      the offer type below (segment_offer_response.is_best_responder: the highest lower bound
      of the 95% Wilson interval of its pooled response rate, so a small segment with a lucky
      rate does not win).
    - target_offer_type: offer type that picks the default segment (default 'discount'),
      normalised as staging normalises offer types (macro to_code: ' Free Shipping ' is
      free_shipping).
    - target_quiet_days: days without any contact (default 90).
    - target_date: the day the list is for (default: the as-of date of the build).
    A segment id or offer type the build does not have stops with the valid ones listed
    (macro check_target_vars). Its rows: `dbt show --select campaign_targets --limit -1`
    (README, "Running the analyses").
-#}
{%- set target = check_target_vars() -%}
{%- set target_date = var('target_date') -%}

with

customers as (
    select * from {{ ref('dim_customer_segments') }}
),

offer_response as (
    select * from {{ ref('segment_offer_response') }}
),

contacts as (
    select * from {{ ref('stg_campaign_contacts') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

best_segment as (
    select segment_id from offer_response
    where offer_type = {{ sql_string(target.offer_type) }} and is_best_responder
),

chosen_segment as (
    {%- if target.segment_id is not none %}
        select {{ target.segment_id }} as segment_id
    {%- else %}
        select segment_id from best_segment
    {%- endif %}
),

list_date as (
    {%- if target_date is not none %}
        select cast('{{ target_date }}' as date) as target_date
    {%- else %}
        select as_of_date as target_date from as_of
    {%- endif %}
),

last_contacts as (
    select
        customer_id,
        max(contacted_at) as last_contacted_at
    from contacts
    group by customer_id
),

targets as (
    select
        customers.customer_id,
        customers.segment_id,
        customers.segment_name,
        customers.rfm_segment,
        customers.monetary,
        customers.last_purchase_at,
        last_contacts.last_contacted_at,
        {{ days_between('last_contacts.last_contacted_at', 'list_date.target_date') }}
            as days_since_last_contact
    from customers
    inner join chosen_segment on customers.segment_id = chosen_segment.segment_id
    cross join list_date
    left join last_contacts on customers.customer_id = last_contacts.customer_id
    where
        last_contacts.last_contacted_at is null
        or {{ days_between('last_contacts.last_contacted_at', 'list_date.target_date') }}
        > {{ var('target_quiet_days') | int }}
)

select * from targets
order by monetary desc, customer_id asc
