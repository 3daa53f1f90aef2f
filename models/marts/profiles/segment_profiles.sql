{#-
    One row per segment: its name, size, revenue and their shares, and the headline feature
    averages.
-#}

with

customers as (
    select * from {{ ref('dim_customer_segments') }}
),

segments as (
    select * from {{ ref('dim_segments') }}
),

per_segment as (
    select
        segment_id,
        count(*) as customers,
        sum(monetary) as revenue,
        avg(recency_days) as avg_recency_days,
        avg(frequency) as avg_frequency,
        avg(monetary) as avg_monetary,
        avg(avg_order_value) as avg_order_value,
        avg(discount_share) as avg_discount_share,
        avg(return_rate) as avg_return_rate,
        avg(category_diversity) as avg_category_diversity,
        avg(tenure_days) as avg_tenure_days,
        avg(age) as avg_age,
        avg(annual_income) as avg_annual_income,
        avg(case when has_purchases then 1 else 0 end) as purchaser_share
    from customers
    group by 1
),

with_shares as (
    select
        per_segment.segment_id,
        segments.segment_name,
        per_segment.customers,
        cast(per_segment.customers as double) / sum(per_segment.customers) over () as customer_share,
        per_segment.revenue,
        coalesce(per_segment.revenue / nullif(sum(per_segment.revenue) over (), 0), 0)
            as revenue_share,
        per_segment.avg_recency_days,
        per_segment.avg_frequency,
        per_segment.avg_monetary,
        per_segment.avg_order_value,
        per_segment.avg_discount_share,
        per_segment.avg_return_rate,
        per_segment.avg_category_diversity,
        per_segment.avg_tenure_days,
        per_segment.avg_age,
        per_segment.avg_annual_income,
        per_segment.purchaser_share
    from per_segment
    left join segments on per_segment.segment_id = segments.segment_id
)

select * from with_shares
