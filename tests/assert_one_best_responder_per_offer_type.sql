{#- Every offer type with contacts has exactly one best responder, and it has the highest
    Wilson lower bound of its offer type. -#}

with

offer_response as (
    select * from {{ ref('segment_offer_response') }}
),

campaign_performance as (
    select * from {{ ref('segment_campaign_performance') }}
),

offer_types as (
    select distinct offer_type from campaign_performance
),

best as (
    select
        offer_type,
        count(case when is_best_responder then 1 end) as best_responders,
        max(case when is_best_responder then response_rate_ci_lower end) as best_lower,
        max(response_rate_ci_lower) as highest_lower
    from offer_response
    group by offer_type
),

checked as (
    select
        offer_types.offer_type,
        best.best_responders,
        best.best_lower,
        best.highest_lower
    from offer_types
    left join best on offer_types.offer_type = best.offer_type
)

select * from checked
where
    best_responders is null
    or best_responders != 1
    or best_lower < highest_lower
