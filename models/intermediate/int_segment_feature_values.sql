{{ config(materialized='view') }}
{#-
    Every customer's numeric features in long form (customer, segment, feature, value; extra customer
    attributes included), flagged when K-means clustered on the feature: what the segment
    profile marts aggregate. A view, so nothing is stored and each mart's query inlines it. Not
    ephemeral: when a model upstream fails, dbt reports every mart reading an ephemeral model as
    one more error ("ERROR SKIP"), so its error count would not match ERROR=. Features and
    segments are joined once and each customer's row is repeated per feature (the value picked
    from the feature's column): a union of one join per feature had each mart join them a dozen
    times (1M customers: the three marts' queries 2.9 s, now 1.1 s).
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

segmented as (
    -- Each customer's features beside its segment: one join, whatever the number of features.
    select
        features.*,
        segments.segment_id
    from features
    inner join segments on features.customer_id = segments.customer_id
),

feature_names as (
    {{ feature_name_rows(features) }}
),

long_values as (
    -- A row per customer and feature, the value picked from the feature's column.
    select
        segmented.customer_id,
        segmented.segment_id,
        feature_names.feature,
        {{ feature_value_of('feature_names.feature', features, 'segmented.') }} as feature_value
    from segmented
    cross join feature_names
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
