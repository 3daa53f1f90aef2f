{#-
    Drift, measured every build: one row per run and check, the current customers against the
    latest fit before the run (custseg.scoring.drift_checks, stored with the run) - each
    clustering feature's population stability index against the fit's reference bins, each
    segment's share against its share at fit time, and the mean distance to the assigned
    centroid against the fit's - with the threshold (vars drift_*_threshold) and whether the
    value is over it. A run that refitted because of drift keeps the checks that made it.
-#}

with

history as (
    select * from {{ ref('segment_model') }}
),

checks as (
    select
        history.run_number,
        history.run_type,
        {{ unnest_structs('history.drift_checks') }}
    from history
),

flagged as (
    select
        run_number,
        check_name,
        check_type,
        feature,
        segment_id,
        fit_run_number,
        reference_value,
        current_value,
        value,
        threshold,
        is_drifted,
        run_type = 'fit' as run_refitted,
        run_number = {{ latest_run_number() }} as is_latest_run
    from checks
)

select * from flagged
