{#-
    Per run and segment: whether the segment kept its id from the previous run (matched),
    is new, or was retired, and how far its centroid moved (scaled units of the new run).
-#}

with

history as (
    select * from {{ ref('segment_model') }}
),

segments as (
    select
        history.run_number,
        history.previous_run_number,
        {{ unnest_structs('history.segments') }}
    from history
),

typed as (
    select
        run_number,
        previous_run_number,
        segment_id,
        status,
        centroid_drift,
        fit_customers
    from segments
)

select * from typed
