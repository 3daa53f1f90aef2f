{#-
    The latest run of the segmentation history (segment_model appends one run per build):
    the fit that scoring (assign_segment) and the segment marts use.
-#}

with

history as (
    select * from {{ ref('segment_model') }}
),

latest_run as (
    select max(run_number) as run_number from history
),

latest as (
    select history.*
    from history
    inner join latest_run on history.run_number = latest_run.run_number
)

select * from latest
