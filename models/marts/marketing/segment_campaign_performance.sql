{#-
    Which segments respond to which campaigns: one row per campaign and segment with contacts.
    Customers count in the segment they are in now (as in dim_customer_segments), not the one they
    were in when contacted. A contact without a recorded response counts as not responded.

    The response rate carries a 95% Wilson score interval (macro wilson_bound), so a small
    segment's rate is read with its uncertainty. lift = segment response rate / the campaign's
    response rate over all its contacts; its interval is the Wilson interval divided by the
    campaign rate, which treats the campaign rate as exact (it ignores the campaign rate's own,
    smaller, uncertainty and the segment being part of the campaign). A lift interval above 1
    means the segment responds better than the campaign's average.
-#}

with

contacts as (
    select * from {{ ref('stg_campaign_contacts') }}
),

campaigns as (
    select * from {{ ref('stg_campaigns') }}
),

customers as (
    select * from {{ ref('int_customer_segments') }}
),

segments as (
    select * from {{ ref('dim_segments') }}
),

contacts_with_segment as (
    select
        contacts.campaign_id,
        customers.segment_id,
        segments.segment_name,
        coalesce(contacts.responded, false) as is_response,
        coalesce(contacts.response_revenue, 0) as response_revenue
    from contacts
    inner join customers on contacts.customer_id = customers.customer_id
    left join segments on customers.segment_id = segments.segment_id
),

per_campaign_segment as (
    select
        campaign_id,
        segment_id,
        segment_name,
        count(*) as contacted,
        count(case when is_response then 1 end) as responded,
        sum(response_revenue) as revenue
    from contacts_with_segment
    group by 1, 2, 3
),

per_campaign as (
    select
        campaign_id,
        count(*) as campaign_contacted,
        count(case when is_response then 1 end) as campaign_responded
    from contacts_with_segment
    group by 1
),

rates as (
    select
        per_campaign_segment.campaign_id,
        campaigns.campaign_name,
        campaigns.offer_type,
        campaigns.channel,
        campaigns.start_date as campaign_start_date,
        per_campaign_segment.segment_id,
        per_campaign_segment.segment_name,
        per_campaign_segment.contacted,
        per_campaign_segment.responded,
        cast(per_campaign_segment.responded as double) / per_campaign_segment.contacted as response_rate,
        {{ wilson_bound('per_campaign_segment.responded', 'per_campaign_segment.contacted', 'lower') }}
            as response_rate_ci_lower,
        {{ wilson_bound('per_campaign_segment.responded', 'per_campaign_segment.contacted', 'upper') }}
            as response_rate_ci_upper,
        cast(per_campaign_segment.revenue as double) as revenue,
        cast(per_campaign_segment.revenue as double) / per_campaign_segment.contacted
            as revenue_per_contact,
        per_campaign.campaign_contacted,
        per_campaign.campaign_responded,
        cast(per_campaign.campaign_responded as double) / per_campaign.campaign_contacted
            as campaign_response_rate
    from per_campaign_segment
    inner join per_campaign on per_campaign_segment.campaign_id = per_campaign.campaign_id
    inner join campaigns on per_campaign_segment.campaign_id = campaigns.campaign_id
),

with_lift as (
    select
        *,
        response_rate / nullif(campaign_response_rate, 0) as lift,
        response_rate_ci_lower / nullif(campaign_response_rate, 0) as lift_ci_lower,
        response_rate_ci_upper / nullif(campaign_response_rate, 0) as lift_ci_upper
    from rates
)

select * from with_lift
