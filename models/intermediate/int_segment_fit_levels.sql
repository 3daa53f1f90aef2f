{#-
    The latest fit's categorical levels, one row per level of each categorical clustering
    feature, in level order: its share of the fit sample and the center and scale that weight
    its indicator column (what assign_segment scores with).
-#}

with

fit as (
    select * from {{ ref('int_segment_fit') }}
),

levels as (
    select {{ unnest_structs('fit.levels') }}
    from fit
)

select * from levels
