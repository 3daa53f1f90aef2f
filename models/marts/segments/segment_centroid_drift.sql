{#-
    Per run and segment: whether the segment kept its id from the previous run (matched),
    is new, or was retired, and how far its centroid moved (scaled units of the new run).
-#}

with

history as (
    select * from {{ ref('segment_model') }}
),

previous_runs as (
    select
        run_number,
        cast(max(text_value) as integer) as previous_run_number
    from history
    where section = 'config' and metric = 'previous_run_number'
    group by 1
),

segments as (
    select
        run_number,
        cast(segment_id as integer) as segment_id,
        max(text_value) as status,
        max(case when metric = 'drift' then value end) as centroid_drift,
        cast(max(case when metric = 'fit_customers' then value end) as bigint) as fit_customers
    from history
    where section = 'segment'
    group by 1, 2
),

joined as (
    select
        segments.run_number,
        previous_runs.previous_run_number,
        segments.segment_id,
        segments.status,
        segments.centroid_drift,
        segments.fit_customers
    from segments
    left join previous_runs on segments.run_number = previous_runs.run_number
)

select * from joined
