{#- One row per evaluated K: the elbow and the quality metrics that chose the segment count. -#}

with

fitted as (
    select * from {{ ref('int_segment_fit') }}
),

pivoted as (
    select
        cast(k as integer) as k,
        max(case when metric = 'inertia' then value end) as inertia,
        max(case when metric = 'silhouette' then value end) as silhouette,
        max(case when metric = 'davies_bouldin' then value end) as davies_bouldin,
        max(case when metric = 'calinski_harabasz' then value end) as calinski_harabasz,
        max(case when metric = 'is_chosen' then value end) = 1 as is_chosen
    from fitted
    where section = 'k_selection'
    group by 1
)

select * from pivoted
