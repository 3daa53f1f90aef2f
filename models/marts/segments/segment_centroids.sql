{#-
    One row per segment and clustering feature: the centroid in scaled units and in the
    feature's own units, with every parameter scoring needs (scaler, transform, winsorizing
    bounds, imputation value), so a centroid can be read and a customer scored anywhere.
-#}

with

fit_features as (
    select * from {{ ref('int_segment_fit_features') }}
),

centroids as (
    select * from {{ ref('int_segment_fit_centroids') }}
),

bounds as (
    select * from {{ ref('int_feature_bounds') }}
),

scaler as (
    select
        feature,
        scaler_center,
        scaler_scale
    from fit_features
    where is_used
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
