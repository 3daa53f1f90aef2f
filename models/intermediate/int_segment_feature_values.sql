{{ config(materialized='view') }}
{#-
    Every customer's numeric features in long form (customer, segment, feature, value; extra customer
    attributes included), flagged when K-means clustered on the feature: what the segment
    profile marts aggregate. A view, so nothing is stored and each mart's query inlines it. Not
    ephemeral: when a model upstream fails, dbt reports every mart reading an ephemeral model as
    one more error ("ERROR SKIP"), so its error count would not match ERROR=.
-#}
{%- set features = numeric_feature_columns() -%}

with

features as (
    select * from {{ ref('int_customer_features') }}
),

segments as (
    select * from {{ ref('int_customer_segments') }}
),

fit_features as (
    select * from {{ ref('int_segment_fit_features') }}
),

clustering_features as (
    select feature from fit_features
    where is_used
),

long_values as (
    {%- for feature in features %}
        select
            features.customer_id,
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

flagged as (
    select
        long_values.customer_id,
        long_values.segment_id,
        long_values.feature,
        long_values.feature_value,
        clustering_features.feature is not null as is_clustering_feature
    from long_values
    left join clustering_features on long_values.feature = clustering_features.feature
)

select * from flagged
