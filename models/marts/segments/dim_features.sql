{#-
    One row per numeric feature: what the feature catalogue declares (label, wording, source,
    transform, imputation, default set) beside what preparing it learned (int_feature_bounds)
    and whether the latest fit clustered on it. The report and BI tools read feature names
    and labels here.
-#}

with

catalogue as (
    select * from {{ feature_catalogue_rows() }} as catalogue
),

bounds as (
    select * from {{ ref('int_feature_bounds') }}
),

fit_features as (
    select * from {{ ref('int_segment_fit_features') }}
),

fit_status as (
    select
        feature,
        case when is_used then 'used' else 'excluded: ' || excluded_reason end as fit_status
    from fit_features
),

joined as (
    select
        catalogue.feature,
        catalogue.feature_order,
        catalogue.feature_label,
        catalogue.high_label,
        catalogue.low_label,
        catalogue.source_model,
        catalogue.transform,
        catalogue.impute_strategy,
        bounds.impute_value,
        bounds.lower_bound,
        bounds.upper_bound,
        bounds.non_null_rows,
        catalogue.is_default_feature,
        coalesce(fit_status.fit_status = 'used', false) as is_clustering_feature,
        fit_status.fit_status
    from catalogue
    inner join bounds on catalogue.feature = bounds.feature
    left join fit_status on catalogue.feature = fit_status.feature
)

select * from joined
