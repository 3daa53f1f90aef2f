{#-
    The two meanings of "latest" in the segment_model run history, each defined once. A build
    appends a run that fits (run_type 'fit') or scores with the latest fit ('score'), so the
    latest run and the latest fit differ between refits. custseg.lifecycle.latest_fit and
    latest_run are the same rules in Python.
-#}

{% macro latest_fit_run_number() %}
    {#-
        The latest fit: the highest run number of the history that fitted (run_type fit, no
        error). A subquery of one value. int_segment_fit holds that run (and stops the build
        when a newer run failed); scoring and the fit's marts read it; segment_runs flags it
        as is_latest.
    -#}
    (select max(run_number) from {{ ref('segment_model') }} where run_type = 'fit' and error is null)
{% endmacro %}


{% macro latest_run_number() %}
    {#-
        The latest run: the highest run number of the history, fit or score, failed or not
        (a subquery of one value); segment_runs flags it as is_latest_run, segment_drift its
        checks.
    -#}
    (select max(run_number) from {{ ref('segment_model') }})
{% endmacro %}
