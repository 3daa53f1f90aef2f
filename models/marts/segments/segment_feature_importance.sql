{#-
    How much each clustering feature shapes the latest segmentation: the share of its
    (scaled) variance the segments explain, and its impurity importance in the rule tree.
-#}

with

fit_features as (
    select * from {{ ref('int_segment_fit_features') }}
),

used as (
    select
        feature,
        variance_explained,
        tree_importance
    from fit_features
    where is_used
),

ranked as (
    select
        feature,
        variance_explained,
        tree_importance,
        cast(row_number() over (order by variance_explained desc, feature asc) as integer)
            as importance_rank
    from used
)

select * from ranked
