{#-
    One row per segment and clustering feature: the centroid in scaled units and in the
    feature's own units, with every parameter scoring needs - the preparation the fit learned
    and stored (transform, winsorizing bounds, imputation value) and its scaler - so a centroid
    can be read and a customer scored anywhere.
-#}

with

fit_features as (
    select * from {{ ref('int_segment_fit_features') }}
),

centroids as (
    select * from {{ ref('int_segment_fit_centroids') }}
),

scaler as (
    select
        feature,
        transform,
        impute_strategy,
        impute_value,
        lower_bound,
        upper_bound,
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
            when scaler.transform = 'log1p'
                then exp(centroids.centroid_scaled * scaler.scaler_scale + scaler.scaler_center) - 1
            else centroids.centroid_scaled * scaler.scaler_scale + scaler.scaler_center
        end as centroid_value,
        scaler.scaler_center,
        scaler.scaler_scale,
        scaler.transform,
        scaler.lower_bound,
        scaler.upper_bound,
        scaler.impute_strategy,
        scaler.impute_value
    from centroids
    inner join scaler on centroids.feature = scaler.feature
)

select * from joined
