{#-
    How much each clustering feature shapes the latest segmentation: the share of its
    (scaled) variance the segments explain, and its impurity importance in the rule tree.
-#}

with

fit as (
    select * from {{ ref('int_segment_fit') }}
),

pivoted as (
    select
        feature,
        max(case when metric = 'variance_explained' then value end) as variance_explained,
        max(case when metric = 'tree_importance' then value end) as tree_importance
    from fit
    where section = 'importance'
    group by 1
),

ranked as (
    select
        feature,
        variance_explained,
        tree_importance,
        cast(row_number() over (order by variance_explained desc, feature asc) as integer)
            as importance_rank
    from pivoted
)

select * from ranked
