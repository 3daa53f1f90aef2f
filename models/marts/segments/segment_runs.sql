{#-
    The run history: one row per build of the segmentation (segment_model appends a run each
    time, a fit or a scoring with the latest fit): whether it fitted and why, which fit it
    scored with and how old that fit was, what it saw, how it was configured, how good the
    chosen K and the rules are, how the segments relate to the fit they were matched to, and
    how many drift checks were over their thresholds.
-#}

with

history as (
    select * from {{ ref('segment_model') }}
),

inputs as (
    select
        history.run_number,
        {{ unnest_structs('history.inputs') }}
    from history
),

input_counts as (
    select
        run_number,
        max(case when source = 'customers' then raw_rows end) as raw_customers,
        max(case when source = 'transactions' then raw_rows end) as raw_transactions,
        max(case when source = 'transactions' then accepted_rows end) as accepted_transactions
    from inputs
    group by 1
),

k_metrics as (
    select
        history.run_number,
        {{ unnest_structs('history.k_metrics') }}
    from history
),

chosen_k_metrics as (
    select * from k_metrics
    where is_chosen
),

features as (
    select
        history.run_number,
        {{ unnest_structs('history.features') }}
    from history
),

used_features as (
    select
        run_number,
        {{ ordered_listagg('feature', "','", 'feature_order') }} as features
    from features
    where is_used
    group by 1
),

segments as (
    select
        history.run_number,
        {{ unnest_structs('history.segments') }}
    from history
),

drift_checks as (
    select
        history.run_number,
        {{ unnest_structs('history.drift_checks') }}
    from history
),

drift_counts as (
    select
        run_number,
        count(*) as drift_checks,
        count(case when is_drifted then 1 end) as drifted_checks
    from drift_checks
    group by 1
),

scored_with as (
    select
        history.run_number,
        {{ days_between('fits.as_of_date', 'history.as_of_date') }} as fit_age_days
    from history
    inner join history as fits on history.fit_run_number = fits.run_number
),

segment_changes as (
    select
        run_number,
        count(case when status = 'matched' then segment_id end) as segments_matched,
        count(case when status = 'new' then segment_id end) as segments_new,
        count(case when status = 'retired' then segment_id end) as segments_retired,
        max(centroid_drift) as max_centroid_drift
    from segments
    group by 1
),

joined as (
    select
        history.run_number,
        history.run_id,
        history.fitted_at,
        history.run_type,
        history.reason,
        history.fit_run_number,
        history.as_of_date,
        scored_with.fit_age_days,
        history.refit,
        history.previous_run_number,
        history.customers,
        history.fit_rows,
        input_counts.raw_customers,
        input_counts.raw_transactions,
        input_counts.accepted_transactions,
        history.feature_fingerprint,
        used_features.features,
        history.scaler,
        history.k_min,
        history.k_max,
        history.k_selection,
        history.chosen_k,
        history.random_state,
        chosen_k_metrics.inertia,
        chosen_k_metrics.silhouette,
        chosen_k_metrics.davies_bouldin,
        chosen_k_metrics.calinski_harabasz,
        history.rules_accuracy,
        history.rules_macro_f1,
        segment_changes.segments_matched,
        segment_changes.segments_new,
        segment_changes.segments_retired,
        segment_changes.max_centroid_drift,
        history.mean_distance,
        coalesce(drift_counts.drift_checks, 0) as drift_checks,
        coalesce(drift_counts.drifted_checks, 0) as drifted_checks,
        history.warnings,
        history.error,
        coalesce(history.run_number = {{ latest_fit_run_number() }}, false) as is_latest,
        history.run_number = {{ latest_run_number() }} as is_latest_run
    from history
    left join input_counts on history.run_number = input_counts.run_number
    left join chosen_k_metrics on history.run_number = chosen_k_metrics.run_number
    left join used_features on history.run_number = used_features.run_number
    left join segment_changes on history.run_number = segment_changes.run_number
    left join drift_counts on history.run_number = drift_counts.run_number
    left join scored_with on history.run_number = scored_with.run_number
)

select * from joined
