{#-
    One row per segment and numeric feature (long form, extra customer attributes included):
    mean and median in the feature's own units, and how far the segment mean sits from the
    overall mean in overall standard deviations (the profile heatmap).
-#}
{%- set features = numeric_feature_columns() -%}

with

features as (
    select * from {{ ref('int_customer_features') }}
),

segments as (
    select * from {{ ref('int_customer_segments') }}
),

fitted as (
    select * from {{ ref('int_segment_fit') }}
),

clustering_features as (
    select feature from fitted
    where section = 'feature' and text_value = 'used'
),

long_values as (
    {%- for feature in features %}
        select
            segments.segment_id,
            '{{ feature }}' as feature,
            cast(features.{{ feature }} as double) as feature_value
        from features
        inner join segments on features.customer_id = segments.customer_id
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

per_segment as (
    select
        segment_id,
        feature,
        count(feature_value) as non_null_customers,
        avg(feature_value) as segment_mean,
        {{ percentile('feature_value', 0.5) }} as segment_median
    from long_values
    group by 1, 2
),

overall as (
    select
        feature,
        avg(feature_value) as overall_mean,
        stddev_samp(feature_value) as overall_stddev
    from long_values
    group by 1
),

joined as (
    select
        per_segment.segment_id,
        per_segment.feature,
        clustering_features.feature is not null as is_clustering_feature,
        per_segment.non_null_customers,
        per_segment.segment_mean,
        per_segment.segment_median,
        overall.overall_mean,
        overall.overall_stddev,
        (per_segment.segment_mean - overall.overall_mean)
        / nullif(overall.overall_stddev, 0) as mean_diff_sd
    from per_segment
    inner join overall on per_segment.feature = overall.feature
    left join clustering_features on per_segment.feature = clustering_features.feature
)

select * from joined
