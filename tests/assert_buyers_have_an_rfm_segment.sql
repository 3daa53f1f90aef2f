{#-
    'No purchases' is only for customers without a completed order up to the as-of date
    (counted here from stg_transactions): every buyer gets a segment of the RFM grid, and
    every non-buyer gets 'No purchases'.
-#}

with

customers as (
    select * from {{ ref('dim_customer_segments') }}
),

assignments as (
    select * from {{ ref('int_customer_segments') }}
),

transactions as (
    select * from {{ ref('stg_transactions') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

grid as (
    select * from {{ ref('rfm_segments') }}
),

buyers as (
    select distinct transactions.customer_id
    from transactions
    cross join as_of
    where
        transactions.status = 'completed'
        and cast(transactions.transaction_ts as date) <= as_of.as_of_date
),

labelled as (
    select
        assignments.customer_id,
        customers.customer_id is not null as is_in_mart,
        customers.rfm_segment,
        customers.recency_score,
        customers.frequency_score,
        buyers.customer_id is not null as is_buyer
    from assignments
    left join customers on assignments.customer_id = customers.customer_id
    left join buyers on assignments.customer_id = buyers.customer_id
),

mismatches as (
    select labelled.*
    from labelled
    where
        not labelled.is_in_mart
        or (labelled.is_buyer and labelled.rfm_segment = 'No purchases')
        or (labelled.is_buyer and labelled.rfm_segment not in (select grid.rfm_segment from grid))
        or (not labelled.is_buyer and labelled.rfm_segment != 'No purchases')
)

select * from mismatches
