{#- Customer and revenue shares over all segments each add up to 1. -#}

with

profiles as (
    select * from {{ ref('segment_profiles') }}
),

totals as (
    select
        sum(customer_share) as customer_share_total,
        sum(revenue_share) as revenue_share_total,
        sum(revenue) as revenue_total
    from profiles
)

select * from totals
where
    abs(customer_share_total - 1) > 1e-9
    or (revenue_total > 0 and abs(revenue_share_total - 1) > 1e-9)
