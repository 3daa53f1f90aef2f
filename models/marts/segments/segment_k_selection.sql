{#- One row per evaluated K: the elbow and the quality metrics that chose the segment count. -#}

with

fit as (
    select * from {{ ref('int_segment_fit') }}
),

k_metrics as (
    select {{ unnest_structs('fit.k_metrics') }}
    from fit
)

select * from k_metrics
