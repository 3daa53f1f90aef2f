{#-
    One row per segment and numeric feature (long form, extra customer attributes included):
    mean and median in the feature's own units, and how far the segment mean sits from the
    overall mean in overall standard deviations of the raw values (the profile heatmap's
    features not clustered on; its clustering features show segment_centroids.centroid_scaled,
    the distance dim_segments quotes).
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
        count(feature_value) as non_null_customers,
        {{ bounded_avg('feature_value') }} as segment_mean,
        {{ percentile('feature_value', 0.5) }} as segment_median
    from long_values
    group by 1, 2, 3
),

overall as (
    select
        feature,
        {{ bounded_avg('feature_value') }} as overall_mean,
        stddev_samp(feature_value) as overall_stddev
    from long_values
    group by 1
),

joined as (
    select
        per_segment.segment_id,
        per_segment.feature,
        per_segment.is_clustering_feature,
        per_segment.non_null_customers,
        per_segment.segment_mean,
        per_segment.segment_median,
        overall.overall_mean,
        overall.overall_stddev,
        (per_segment.segment_mean - overall.overall_mean)
        / nullif(overall.overall_stddev, 0) as mean_diff_sd
    from per_segment
    inner join overall on per_segment.feature = overall.feature
)

select * from joined
