{#-
    One row per segment and clustering feature: the centroid in scaled units and in the
    feature's own units, with every parameter scoring needs (scaler, transform, winsorizing
    bounds, imputation value), so a centroid can be read and a customer scored anywhere.
-#}

with

fitted as (
    select * from {{ ref('int_segment_fit') }}
),

bounds as (
    select * from {{ ref('int_feature_bounds') }}
),

scaler as (
    select
        feature,
        max(case when metric = 'center' then value end) as scaler_center,
        max(case when metric = 'scale' then value end) as scaler_scale
    from fitted
    where section = 'scaler'
    group by 1
),

centroids as (
    select
        cast(segment_id as integer) as segment_id,
        feature,
        value as centroid_scaled
    from fitted
    where section = 'centroid' and metric = 'scaled'
),

joined as (
    select
        centroids.segment_id,
        centroids.feature,
        centroids.centroid_scaled,
        case
            when bounds.transform = 'log1p'
                then exp(centroids.centroid_scaled * scaler.scaler_scale + scaler.scaler_center) - 1
            else centroids.centroid_scaled * scaler.scaler_scale + scaler.scaler_center
        end as centroid_value,
        scaler.scaler_center,
        scaler.scaler_scale,
        bounds.transform,
        bounds.lower_bound,
        bounds.upper_bound,
        bounds.impute_strategy,
        bounds.impute_value
    from centroids
    inner join scaler on centroids.feature = scaler.feature
    inner join bounds on centroids.feature = bounds.feature
)

select * from joined
