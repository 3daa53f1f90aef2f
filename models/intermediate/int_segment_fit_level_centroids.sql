{#-
    The latest fit's centroids on the categorical levels, one row per stable segment id,
    categorical clustering feature and level, in the fit's scaled units (what assign_segment
    measures distances in).
-#}

with

fit as (
    select * from {{ ref('int_segment_fit') }}
),

level_centroids as (
    select {{ unnest_structs('fit.level_centroids') }}
    from fit
)

select * from level_centroids
