{#-
    One row per numeric feature: what the feature catalogue declares (label, wording, source,
    transform, imputation, default set) beside what preparing it learned - the latest fit's
    stored preparation for a feature the fit was asked to use (what scoring applies), else
    what this build's customers give (int_feature_bounds: what a fit now would learn) - and
    whether the latest fit clustered on it. The report and BI tools read feature names and
    labels here.
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
        case when is_used then 'used' else 'excluded: ' || excluded_reason end as fit_status,
        impute_value,
        lower_bound,
        upper_bound
    from fit_features
    where transform is not null
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
        case when fit_status.feature is null then bounds.impute_value else fit_status.impute_value end
            as impute_value,
        case when fit_status.feature is null then bounds.lower_bound else fit_status.lower_bound end
            as lower_bound,
        case when fit_status.feature is null then bounds.upper_bound else fit_status.upper_bound end
            as upper_bound,
        case when fit_status.feature is null then 'current data' else 'fit' end as preparation_source,
        bounds.non_null_rows,
        catalogue.is_default_feature,
        coalesce(fit_status.fit_status = 'used', false) as is_clustering_feature,
        fit_status.fit_status
    from catalogue
    inner join bounds on catalogue.feature = bounds.feature
    left join fit_status on catalogue.feature = fit_status.feature
)

select * from joined
