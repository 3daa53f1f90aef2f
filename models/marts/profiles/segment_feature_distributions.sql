{#-
    One row per segment and numeric feature (extra customer attributes included), in the
    feature's own units: how many customers of the segment have a value, and the mean,
    standard deviation, min, 5th/25th/50th/75th/95th percentiles (interpolated) and max of it.
    The box plot per segment; the bars are in segment_feature_histograms.
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
        count(feature_value) as customers,
        avg(feature_value) as mean,
        stddev_samp(feature_value) as stddev,
        min(feature_value) as min,
        {{ percentile('feature_value', 0.05) }} as p05,
        {{ percentile('feature_value', 0.25) }} as p25,
        {{ percentile('feature_value', 0.5) }} as median,
        {{ percentile('feature_value', 0.75) }} as p75,
        {{ percentile('feature_value', 0.95) }} as p95,
        max(feature_value) as max
    from long_values
    group by 1, 2
),

flagged as (
    select
        per_segment.segment_id,
        per_segment.feature,
        clustering_features.feature is not null as is_clustering_feature,
        per_segment.customers,
        per_segment.mean,
        per_segment.stddev,
        per_segment.min,
        per_segment.p05,
        per_segment.p25,
        per_segment.median,
        per_segment.p75,
        per_segment.p95,
        per_segment.max
    from per_segment
    left join clustering_features on per_segment.feature = clustering_features.feature
)

select * from flagged
