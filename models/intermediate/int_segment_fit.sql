{#-
    The latest run of the segmentation history (segment_model appends one run per build): the
    fit that scoring (assign_segment) and the segment marts use, one row. The one definition
    of "the latest run" in SQL; custseg.lifecycle.latest_fit is the same run in Python. When
    the latest run could not fit (data or settings the segmentation can not work with), the
    build stops here with the reason and the fix, one line, no traceback.
-#}
{%- if execute and load_relation(ref('segment_model')) is not none %}
    {%- set failure = run_query(
        "select run_number, error from " ~ ref('segment_model')
        ~ " where error is not null and run_number = "
        ~ "(select max(run_number) from " ~ ref('segment_model') ~ ")"
    ) -%}
    {%- if failure.rows | length > 0 %}
        {{ exceptions.raise_compiler_error(
            "The segmentation could not be fitted (segment_model run "
            ~ failure.rows[0][0] ~ "): " ~ failure.rows[0][1]
        ) }}
    {%- endif %}
{%- endif %}

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
