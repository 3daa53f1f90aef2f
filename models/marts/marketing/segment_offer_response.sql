{#-
    Which segment responds best to each offer type: one row per offer type and segment, pooled
    over the offer type's campaigns (segment_campaign_performance). The rule, written once and
    read by the report and analyses/campaign_targets: the best responder is the segment with the
    highest lower bound of the 95% Wilson interval of its pooled response rate (ties: the lower
    segment id), so a small segment with a lucky rate does not win. Lift is against everyone the
    offer type's campaigns contacted; its interval is the Wilson interval over that rate.
-#}

with

performance as (
    select * from {{ ref('segment_campaign_performance') }}
),

per_offer_segment as (
    select
        offer_type,
        segment_id,
        segment_name,
        count(distinct campaign_id) as campaigns,
        cast(sum(contacted) as bigint) as contacted,
        cast(sum(responded) as bigint) as responded,
        count(case when lift_ci_lower > 1 then 1 end) as campaigns_clearly_better
    from performance
    group by 1, 2, 3
),

per_campaign as (
    select distinct
        offer_type,
        campaign_id,
        campaign_contacted,
        campaign_responded
    from performance
),

per_offer as (
    select
        offer_type,
        cast(sum(campaign_contacted) as bigint) as offer_contacted,
        cast(sum(campaign_responded) as bigint) as offer_responded
    from per_campaign
    group by 1
),

rates as (
    select
        per_offer_segment.offer_type,
        per_offer_segment.segment_id,
        per_offer_segment.segment_name,
        per_offer_segment.campaigns,
        per_offer_segment.contacted,
        per_offer_segment.responded,
        cast(per_offer_segment.responded as double) / per_offer_segment.contacted as response_rate,
        {{ wilson_bound('per_offer_segment.responded', 'per_offer_segment.contacted', 'lower') }}
            as response_rate_ci_lower,
        {{ wilson_bound('per_offer_segment.responded', 'per_offer_segment.contacted', 'upper') }}
            as response_rate_ci_upper,
        cast(per_offer.offer_responded as double) / per_offer.offer_contacted
            as offer_response_rate,
        per_offer_segment.campaigns_clearly_better
    from per_offer_segment
    inner join per_offer on per_offer_segment.offer_type = per_offer.offer_type
),

ranked as (
    select
        offer_type,
        segment_id,
        segment_name,
        campaigns,
        contacted,
        responded,
        response_rate,
        response_rate_ci_lower,
        response_rate_ci_upper,
        offer_response_rate,
        response_rate / nullif(offer_response_rate, 0) as lift,
        response_rate_ci_lower / nullif(offer_response_rate, 0) as lift_ci_lower,
        response_rate_ci_upper / nullif(offer_response_rate, 0) as lift_ci_upper,
        campaigns_clearly_better,
        row_number() over (
            partition by offer_type order by response_rate_ci_lower desc, segment_id asc
        ) = 1 as is_best_responder
    from rates
)

select * from ranked
