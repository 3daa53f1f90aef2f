{#-
    Purchase behaviour per customer with at least one accepted transaction up to the as-of
    date: every column of int_customer_purchase_totals (the totals, kept incrementally) but its
    bookkeeping, and the recency they give on this build's as-of date.
-#}

with

totals as (
    select * from {{ ref('int_customer_purchase_totals') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

joined as (
    select
        {{ columns_except(ref('int_customer_purchase_totals'), 'totals', ['as_of_date', 'loaded_through']) }},
        {{ days_between('totals.last_purchase_at', 'as_of.as_of_date') }} as recency_days
    from totals
    cross join as_of
)

select * from joined
