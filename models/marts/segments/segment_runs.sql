{#-
    The run history: one row per build of the segmentation (segment_model appends a run each
    time): what it saw, how it was configured, how good the chosen K and the rules are, and how
    the segments relate to the previous run's.
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
        history.warnings,
        history.error,
        coalesce(history.run_number = {{ latest_fit_run_number() }}, false) as is_latest
    from history
    left join input_counts on history.run_number = input_counts.run_number
    left join chosen_k_metrics on history.run_number = chosen_k_metrics.run_number
    left join used_features on history.run_number = used_features.run_number
    left join segment_changes on history.run_number = segment_changes.run_number
)

select * from joined
