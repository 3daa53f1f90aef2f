{#-
    What the report's customer map draws: a reproducible sample of customers (var
    customer_map_sample_size, default 5000, ordered by a hash of the customer id) with each
    clustering feature as K-means saw it - prepared and scaled by scale_features, the macro
    assign_segment scores with - in long form. No customer ids: points are numbered.
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

sampled as (
    -- A top-N over all customers (cheap), numbered afterwards.
    select
        customer_id,
        {{ dbt.hash('customer_id') }} as sort_key
    from features
    order by sort_key, customer_id
    limit {{ var('customer_map_sample_size') | int }}
),

numbered as (
    select
        customer_id,
        cast(row_number() over (order by sort_key, customer_id) as bigint) as point_number
    from sampled
),

sampled_features as (
    select features.*
    from features
    inner join numbered on features.customer_id = numbered.customer_id
),

scaled as (
    select * from {{ scale_features('sampled_features') }} as scaled_features
),

feature_names as (
    {{ feature_name_rows(features) }}
),

long_values as (
    -- A row per sampled customer and feature: the sample is scaled once.
    select
        scaled.customer_id,
        feature_names.feature,
        {{ feature_value_of('feature_names.feature', features, 'scaled.') }} as scaled_value
    from scaled
    cross join feature_names
),

points as (
    select
        numbered.point_number,
        segments.segment_id,
        long_values.feature,
        long_values.scaled_value
    from long_values
    inner join clustering_features on long_values.feature = clustering_features.feature
    inner join numbered on long_values.customer_id = numbered.customer_id
    inner join segments on long_values.customer_id = segments.customer_id
)

select * from points
