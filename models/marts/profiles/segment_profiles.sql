{#- One row per segment: size, revenue and their shares, and the headline feature averages. -#}

with

customers as (
    select * from {{ ref('dim_customer_segments') }}
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
        avg(case when has_purchases then 1.0 else 0.0 end) as purchaser_share
    from customers
    group by 1
),

with_shares as (
    select
        segment_id,
        customers,
        customers * 1.0 / sum(customers) over () as customer_share,
        revenue,
        coalesce(revenue / nullif(sum(revenue) over (), 0), 0) as revenue_share,
        avg_recency_days,
        avg_frequency,
        avg_monetary,
        avg_order_value,
        avg_discount_share,
        avg_return_rate,
        avg_category_diversity,
        avg_tenure_days,
        avg_age,
        avg_annual_income,
        purchaser_share
    from per_segment
)

select * from with_shares
