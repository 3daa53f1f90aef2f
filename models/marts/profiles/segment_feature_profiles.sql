{#-
    One row per segment and numeric feature (long form, extra customer attributes included):
    mean and median in the feature's own units (segment_feature_distributions' own), and how
    far the segment mean sits from the overall mean in overall standard deviations of the raw
    values (the profile heatmap's features not clustered on; its clustering features show
    segment_centroids.centroid_scaled, the distance dim_segments quotes).
-#}
with

distributions as (
    select * from {{ ref('segment_feature_distributions') }}
),

long_values as (
    select * from {{ ref('int_segment_feature_values') }}
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
        distributions.segment_id,
        distributions.feature,
        distributions.is_clustering_feature,
        distributions.customers as non_null_customers,
        distributions.mean as segment_mean,
        distributions.median as segment_median,
        overall.overall_mean,
        overall.overall_stddev,
        (distributions.mean - overall.overall_mean)
        / nullif(overall.overall_stddev, 0) as mean_diff_sd
    from distributions
    inner join overall on distributions.feature = overall.feature
)

select * from joined
