{#-
    One row per day from 2000-01-01 to 2040-01-01: the time spine MetricFlow joins metrics to
    (dbt's own date_spine macro, so it compiles on every adapter).
-#}

with

days as (
    {{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2040-01-01' as date)") }}
),

spine as (
    select cast(date_day as date) as date_day
    from days
)

select * from spine
