{#-
    Why a customer is in a segment: the leaves of a shallow decision tree trained on the
    latest fit's segment labels (custseg.explain), as readable rules in the features' own
    units, with the fit-sample customers each rule covers, its precision (share of them in the
    segment) and recall (share of the segment it covers). Accuracy: segment_runs.
-#}

with

fit as (
    select * from {{ ref('int_segment_fit') }}
),

segments as (
    select * from {{ ref('dim_segments') }}
),

rules as (
    select {{ unnest_structs('fit.rules') }}
    from fit
),

named as (
    select
        rules.segment_id,
        segments.segment_name,
        rules.rule_number,
        rules.rule,
        rules.customers,
        rules.precision,
        rules.recall
    from rules
    inner join segments on rules.segment_id = segments.segment_id
)

select * from named
