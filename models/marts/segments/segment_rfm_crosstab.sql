{#-
    Classic RFM segments against K-means segments: customers in every combination (zeros
    included, so a BI heatmap shows the full grid), as shares of the K-means segment and of the
    RFM segment.
-#}

with

customers as (
    select * from {{ ref('dim_customer_segments') }}
),

segments as (
    select * from {{ ref('dim_segments') }}
),

rfm_segments as (
    select distinct rfm_segment from {{ ref('rfm_segments') }}
    union
    select 'No purchases' as rfm_segment
),

counts as (
    select
        segment_id,
        rfm_segment,
        count(*) as customers
    from customers
    group by 1, 2
),

grid as (
    select
        segments.segment_id,
        segments.segment_name,
        rfm_segments.rfm_segment,
        coalesce(counts.customers, 0) as customers
    from segments
    cross join rfm_segments
    left join counts
        on
            segments.segment_id = counts.segment_id
            and rfm_segments.rfm_segment = counts.rfm_segment
),

with_shares as (
    select
        segment_id,
        segment_name,
        rfm_segment,
        customers,
        cast(customers as double) / nullif(sum(customers) over (partition by segment_id), 0)
            as share_of_segment,
        cast(customers as double) / nullif(sum(customers) over (partition by rfm_segment), 0)
            as share_of_rfm_segment
    from grid
)

select * from with_shares
