{#-
    Everything scoring needs of the latest fit, in one long relation (what assign_segment,
    scale_features and the predict_segment macros read; macros/assign_segment.sql): one row
    per parameter of the fit, by parameter_type -
    feature: a numeric clustering feature's stored preparation (transform, imputation value,
             winsorizing bounds, raw units) and its scaler;
    level: a categorical level's center and scale (level_order: its column of the fit);
    centroid: a segment's centroid on a numeric feature, or on a level;
    segment: a live segment of the fit with its outlier distance.
    Nothing here comes from the current customers: scoring applies the fit as it was stored.
-#}

with

fit_features as (
    select * from {{ ref('int_segment_fit_features') }}
),

fit_levels as (
    select * from {{ ref('int_segment_fit_levels') }}
),

fit_segments as (
    select * from {{ ref('int_segment_fit_segments') }}
),

fit_centroids as (
    select * from {{ ref('int_segment_fit_centroids') }}
),

fit_level_centroids as (
    select * from {{ ref('int_segment_fit_level_centroids') }}
),

live_segments as (
    select
        segment_id,
        outlier_distance
    from fit_segments
    where status != 'retired'
),

parameters as (
    select
        'feature' as parameter_type,
        cast(null as integer) as segment_id,
        feature,
        cast(null as {{ dbt.type_string() }}) as level,
        cast(null as integer) as level_order,
        transform,
        impute_value,
        lower_bound,
        upper_bound,
        scaler_center,
        scaler_scale,
        cast(null as double) as centroid_scaled,
        cast(null as double) as outlier_distance
    from fit_features
    where is_used and transform is not null
    union all
    select
        'level' as parameter_type,
        cast(null as integer) as segment_id,
        feature,
        level,
        level_order,
        cast(null as {{ dbt.type_string() }}) as transform,
        cast(null as double) as impute_value,
        cast(null as double) as lower_bound,
        cast(null as double) as upper_bound,
        scaler_center,
        scaler_scale,
        cast(null as double) as centroid_scaled,
        cast(null as double) as outlier_distance
    from fit_levels
    union all
    select
        'centroid' as parameter_type,
        fit_centroids.segment_id,
        fit_centroids.feature,
        cast(null as {{ dbt.type_string() }}) as level,
        cast(null as integer) as level_order,
        cast(null as {{ dbt.type_string() }}) as transform,
        cast(null as double) as impute_value,
        cast(null as double) as lower_bound,
        cast(null as double) as upper_bound,
        cast(null as double) as scaler_center,
        cast(null as double) as scaler_scale,
        fit_centroids.centroid_scaled,
        cast(null as double) as outlier_distance
    from fit_centroids
    inner join live_segments on fit_centroids.segment_id = live_segments.segment_id
    union all
    select
        'centroid' as parameter_type,
        fit_level_centroids.segment_id,
        fit_level_centroids.feature,
        fit_level_centroids.level,
        fit_levels.level_order,
        cast(null as {{ dbt.type_string() }}) as transform,
        cast(null as double) as impute_value,
        cast(null as double) as lower_bound,
        cast(null as double) as upper_bound,
        cast(null as double) as scaler_center,
        cast(null as double) as scaler_scale,
        fit_level_centroids.centroid_scaled,
        cast(null as double) as outlier_distance
    from fit_level_centroids
    inner join live_segments on fit_level_centroids.segment_id = live_segments.segment_id
    inner join fit_levels
        on
            fit_level_centroids.feature = fit_levels.feature
            and fit_level_centroids.level = fit_levels.level
    union all
    select
        'segment' as parameter_type,
        segment_id,
        cast(null as {{ dbt.type_string() }}) as feature,
        cast(null as {{ dbt.type_string() }}) as level,
        cast(null as integer) as level_order,
        cast(null as {{ dbt.type_string() }}) as transform,
        cast(null as double) as impute_value,
        cast(null as double) as lower_bound,
        cast(null as double) as upper_bound,
        cast(null as double) as scaler_center,
        cast(null as double) as scaler_scale,
        cast(null as double) as centroid_scaled,
        outlier_distance
    from live_segments
),

ordered as (
    select
        parameters.parameter_type,
        parameters.segment_id,
        parameters.feature,
        parameters.level,
        parameters.level_order,
        parameters.transform,
        parameters.impute_value,
        parameters.lower_bound,
        parameters.upper_bound,
        parameters.scaler_center,
        parameters.scaler_scale,
        parameters.centroid_scaled,
        parameters.outlier_distance
    from parameters
)

select * from ordered
