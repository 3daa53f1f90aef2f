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


{% macro as_of_date_select(transactions, customers) %}
    {#-
        The one definition of a build's reference date, as a select of one row (as_of_date):
        var as_of_date, else the latest accepted transaction date of `transactions`, else (no
        transactions) the latest signup date of `customers`, else the build date. int_as_of_date
        is it; int_customer_purchase_totals computes it from the same staging models rather
        than reading int_as_of_date, so that the recency model after it reads the date once.
    -#}
    select
        coalesce(
            {%- if var('as_of_date') %}
            cast('{{ var("as_of_date") }}' as date),
            {%- endif %}
            (select max(cast(transaction_ts as date)) from {{ transactions }}),
            (select max(signup_date) from {{ customers }}),
            current_date
        ) as as_of_date
{% endmacro %}
