{#-
    How a SQL user joins the segments to their own campaign table: any table with one row per
    customer and campaign (columns customer_id, campaign_id, responded) - here the project's
    contacts unless var external_campaign_table names yours, e.g.
    `dbt compile --select join_external_campaigns --vars '{external_campaign_table: crm.main.sends}'`.

    Ids are matched as staging keys them (macro to_id: as text, trimmed, an empty id null;
    case kept), and a left join keeps customers the segmentation does not know (new since the
    last build, or ids that do not match) as 'unsegmented' instead of dropping them. Compile
    against the build file, which keeps real ids; the serving file's ids are hashed when var
    pseudonymize_customer_ids is on (hash yours with macro customer_key to join there).
-#}
{%- set external_table = var('external_campaign_table') -%}

with

campaign_sends as (
    select * from {{ external_table if external_table else ref('stg_campaign_contacts') }}
),

customer_segments as (
    select * from {{ ref('dim_customer_segments') }}
),

sends_with_segment as (
    select
        campaign_sends.campaign_id,
        customer_segments.segment_id,
        coalesce(customer_segments.segment_name, 'unsegmented') as segment_name,
        coalesce(campaign_sends.responded, false) as responded
    from campaign_sends
    left join customer_segments
        on
            {{ to_id('campaign_sends.customer_id') }}
            = customer_segments.customer_id
),

per_campaign_segment as (
    select
        campaign_id,
        segment_id,
        segment_name,
        count(*) as sends,
        count(case when responded then 1 end) as responders,
        count(case when responded then 1 end) * 1.0 / count(*) as response_rate
    from sends_with_segment
    group by campaign_id, segment_id, segment_name
)

select * from per_campaign_segment
order by campaign_id asc, segment_id asc nulls last
