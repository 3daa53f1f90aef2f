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
    select
        cast(segment_id as integer) as segment_id,
        cast(k as integer) as rule_number,
        max(text_value) as rule,
        cast(max(case when metric = 'customers' then value end) as bigint) as customers,
        max(case when metric = 'precision' then value end) as precision,
        max(case when metric = 'recall' then value end) as recall
    from fit
    where section = 'rule'
    group by 1, 2
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
