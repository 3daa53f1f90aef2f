{#-
    The latest fit's segments, one row per stable segment id (retired ids of the fit
    included, marked): what the fit measured on all its customers - their share, their mean
    distance to the centroid and the outlier distance (what assign_segment flags outliers
    with).
-#}

with

fit as (
    select * from {{ ref('int_segment_fit') }}
),

segments as (
    select {{ unnest_structs('fit.segments') }}
    from fit
)

select * from segments
