{#-
    The latest fit's centroids, one row per stable segment id and clustering feature, in the
    fit's scaled units (what assign_segment measures distances in).
-#}

with

fit as (
    select * from {{ ref('int_segment_fit') }}
),

centroids as (
    select {{ unnest_structs('fit.centroids') }}
    from fit
)

select * from centroids
