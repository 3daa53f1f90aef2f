{#-
    Each customer's purchase aggregates with the classic R/F/M quintile scores (1-5, 5 best)
    among customers with at least one completed order; customers without one get null
    scores. Tied values share a score.
-#}

with

purchases as (
    select * from {{ ref('int_transactions_aggregated_to_customers') }}
),

scored as (
    select
        *,
        {{ quintile_score('recency_days', 'frequency > 0', descending=true) }} as recency_score,
        {{ quintile_score('frequency', 'frequency > 0') }} as frequency_score,
        {{ quintile_score('monetary', 'frequency > 0') }} as monetary_score
    from purchases
),

combined as (
    select
        *,
        cast(recency_score as {{ dbt.type_string() }})
        || cast(frequency_score as {{ dbt.type_string() }})
        || cast(monetary_score as {{ dbt.type_string() }}) as rfm_score
    from scored
)

-- Every purchase aggregate of int_transactions_aggregated_to_customers, then the scores.
select * from combined -- noqa: AM04
