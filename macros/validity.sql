{#- The business rules on dates that more than one model applies, each written once. -#}

{% macro min_valid_ts() %}
    {#- Earliest valid transaction, contact or signup time (var min_valid_ts), as text. -#}
    {{ return(var('min_valid_ts')) }}
{% endmacro %}


{% macro max_valid_ts() %}
    {#- Latest valid time (var max_valid_ts; null = the build's start), as text. -#}
    {{ return(var('max_valid_ts', none) or run_started_at.strftime('%Y-%m-%d %H:%M:%S')) }}
{% endmacro %}


{% macro up_to_as_of(ts_column, as_of_column='as_of.as_of_date') %}
    {#- A transaction counts for features and revenue when it happened by the as-of date. -#}
    cast({{ ts_column }} as date) <= {{ as_of_column }}
{% endmacro %}
