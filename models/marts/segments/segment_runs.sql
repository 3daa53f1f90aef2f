{#-
    The run history: one row per build of the segmentation (segment_model appends a run each
    time): what it saw, how it was configured, how good the chosen K and the rules are, and how
    the segments relate to the previous run's.
-#}

with

history as (
    select * from {{ ref('segment_model') }}
),

settings as (
    select
        run_number,
        max(run_id) as run_id,
        max(fitted_at) as fitted_at,
        max(case when metric = 'input_rows' then cast(text_value as bigint) end) as customers,
        max(case when metric = 'fit_rows' then cast(text_value as bigint) end) as fit_rows,
        max(case when metric = 'feature_fingerprint' then text_value end) as feature_fingerprint,
        max(case when metric = 'features' then text_value end) as features,
        max(case when metric = 'scaler' then text_value end) as scaler,
        max(case when metric = 'k_min' then cast(text_value as integer) end) as k_min,
        max(case when metric = 'k_max' then cast(text_value as integer) end) as k_max,
        max(case when metric = 'k_selection' then text_value end) as k_selection,
        max(case when metric = 'chosen_k' then cast(text_value as integer) end) as chosen_k,
        max(case when metric = 'random_state' then cast(text_value as integer) end)
            as random_state,
        max(case when metric = 'previous_run_number' then cast(text_value as integer) end)
            as previous_run_number,
        max(case when metric = 'warnings' then text_value end) as warnings,
        max(case when metric = 'error' then text_value end) as error
    from history
    where section = 'config'
    group by 1
),

inputs as (
    select
        run_number,
        cast(
            max(case when feature = 'customers' and metric = 'raw_rows' then value end) as bigint
        ) as raw_customers,
        cast(
            max(case when feature = 'transactions' and metric = 'raw_rows' then value end) as bigint
        ) as raw_transactions,
        cast(
            max(case when feature = 'transactions' and metric = 'accepted_rows' then value end)
            as bigint
        ) as accepted_transactions
    from history
    where section = 'input'
    group by 1
),

chosen_k_metrics as (
    select
        run_number,
        k,
        max(case when metric = 'inertia' then value end) as inertia,
        max(case when metric = 'silhouette' then value end) as silhouette,
        max(case when metric = 'davies_bouldin' then value end) as davies_bouldin,
        max(case when metric = 'calinski_harabasz' then value end) as calinski_harabasz,
        max(case when metric = 'is_chosen' then value end) as is_chosen
    from history
    where section = 'k_selection'
    group by 1, 2
),

quality as (
    select
        run_number,
        max(case when metric = 'rules_accuracy' then value end) as rules_accuracy,
        max(case when metric = 'rules_macro_f1' then value end) as rules_macro_f1
    from history
    where section = 'quality'
    group by 1
),

segment_changes as (
    select
        run_number,
        count(distinct case when text_value = 'matched' then segment_id end) as segments_matched,
        count(distinct case when text_value = 'new' then segment_id end) as segments_new,
        count(distinct case when text_value = 'retired' then segment_id end) as segments_retired,
        max(case when metric = 'drift' then value end) as max_centroid_drift
    from history
    where section = 'segment'
    group by 1
),

joined as (
    select
        settings.run_number,
        settings.run_id,
        settings.fitted_at,
        settings.previous_run_number,
        settings.customers,
        settings.fit_rows,
        inputs.raw_customers,
        inputs.raw_transactions,
        inputs.accepted_transactions,
        settings.feature_fingerprint,
        settings.features,
        settings.scaler,
        settings.k_min,
        settings.k_max,
        settings.k_selection,
        settings.chosen_k,
        settings.random_state,
        chosen_k_metrics.inertia,
        chosen_k_metrics.silhouette,
        chosen_k_metrics.davies_bouldin,
        chosen_k_metrics.calinski_harabasz,
        quality.rules_accuracy,
        quality.rules_macro_f1,
        segment_changes.segments_matched,
        segment_changes.segments_new,
        segment_changes.segments_retired,
        segment_changes.max_centroid_drift,
        settings.warnings,
        settings.error,
        coalesce(
            settings.error is null
            and settings.run_number
            = max(case when settings.error is null then settings.run_number end) over (),
            false
        ) as is_latest
    from settings
    left join inputs on settings.run_number = inputs.run_number
    left join chosen_k_metrics
        on settings.run_number = chosen_k_metrics.run_number and chosen_k_metrics.is_chosen = 1
    left join quality on settings.run_number = quality.run_number
    left join segment_changes on settings.run_number = segment_changes.run_number
)

select * from joined
