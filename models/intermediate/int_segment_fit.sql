{#-
    The latest fit of the segmentation history (segment_model appends one run per build, a
    fit or a scoring with the latest fit): the fit that scoring (assign_segment) and the
    segment marts use, one row (the run latest_fit_run_number names). When the newest run
    failed (data or settings the segmentation can not work with, or refit: never without a
    fit), the build stops here with the reason and the fix, one line, no traceback.
-#}
{%- if execute and load_relation(ref('segment_model')) is not none %}
    {%- set failure = run_query(
        "select run_number, run_type, error from " ~ ref('segment_model')
        ~ " where error is not null and run_number = " ~ latest_run_number()
    ) -%}
    {%- if failure.rows | length > 0 %}
        {%- do stop_build(
            ("The segmentation could not be fitted" if failure.rows[0][1] == 'fit'
             else "The customers could not be scored")
            ~ " (segment_model run " ~ failure.rows[0][0] ~ "): " ~ failure.rows[0][2]
        ) -%}
    {%- endif %}
{%- endif %}

with

history as (
    select * from {{ ref('segment_model') }}
),

latest as (
    select * from history
    where run_number = {{ latest_fit_run_number() }}
)

-- Every column of segment_model, whose names and types have one home: custseg.run.RUN_SCHEMA.
select * from latest -- noqa: AM04
