{#-
    The RFM grid (seed rfm_segments) maps every R × F pair of scores 1-5 to exactly one named
    segment: no pair is missing, none twice, no score outside 1-5, no empty name.
-#}

with

grid as (
    select * from {{ ref('rfm_segments') }}
),

scores as (
    select score_values.score
    from (values (1), (2), (3), (4), (5)) as score_values (score)
),

pairs as (
    select
        recency_scores.score as recency_score,
        frequency_scores.score as frequency_score
    from scores as recency_scores
    cross join scores as frequency_scores
),

mapped as (
    select
        recency_score,
        frequency_score,
        count(*) as mappings,
        count(nullif(trim(rfm_segment), '')) as named_mappings
    from grid
    group by 1, 2
),

compared as (
    select
        coalesce(pairs.recency_score, mapped.recency_score) as recency_score,
        coalesce(pairs.frequency_score, mapped.frequency_score) as frequency_score,
        coalesce(mapped.mappings, 0) as mappings,
        coalesce(mapped.named_mappings, 0) as named_mappings,
        pairs.recency_score is not null as is_valid_pair
    from pairs
    full outer join mapped
        on
            pairs.recency_score = mapped.recency_score
            and pairs.frequency_score = mapped.frequency_score
),

mismatches as (
    select * from compared
    where not is_valid_pair or mappings != 1 or named_mappings != 1
)

select * from mismatches
