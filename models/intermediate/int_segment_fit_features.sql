{#-
    The latest fit's features, one row each, in the order they were asked for: used or
    excluded (with the reason), the scaler the fit learned and how much each shapes the
    segments.
-#}

with

fit as (
    select * from {{ ref('int_segment_fit') }}
),

features as (
    select {{ unnest_structs('fit.features') }}
    from fit
)

select * from features
