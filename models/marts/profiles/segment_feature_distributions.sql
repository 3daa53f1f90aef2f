{#-
    One row per segment and numeric feature (extra customer attributes included), in the
    feature's own units: how many customers of the segment have a value, and the mean,
    standard deviation, min, 5th/25th/50th/75th/95th percentiles (interpolated) and max of it.
    The box plot per segment; the bars are in segment_feature_histograms.
-#}
with

long_values as (
    select * from {{ ref('int_segment_feature_values') }}
),

per_segment as (
    select
        segment_id,
        feature,
        is_clustering_feature,
        count(feature_value) as customers,
        {{ bounded_avg('feature_value') }} as mean,
        stddev_samp(feature_value) as stddev,
        min(feature_value) as min,
        {{ percentiles('feature_value', [0.05, 0.25, 0.5, 0.75, 0.95]) }} as quantiles,
        max(feature_value) as max
    from long_values
    group by 1, 2, 3
),

distributions as (
    select
        segment_id,
        feature,
        is_clustering_feature,
        customers,
        mean,
        stddev,
        min,
        {{ list_item('quantiles', 1) }} as p05,
        {{ list_item('quantiles', 2) }} as p25,
        {{ list_item('quantiles', 3) }} as median,
        {{ list_item('quantiles', 4) }} as p75,
        {{ list_item('quantiles', 5) }} as p95,
        max
    from per_segment
)

select * from distributions
