{% macro latest_fit_run_number() %}
    {#-
        The one definition of "the latest fit" in SQL: the highest run number of the
        segment_model history that fitted (no error). A subquery of one value. int_segment_fit
        holds that run (and stops the build when a newer run failed); segment_runs flags it
        as is_latest. custseg.lifecycle.latest_fit is the same rule in Python.
    -#}
    (select max(run_number) from {{ ref('segment_model') }} where error is null)
{% endmacro %}
