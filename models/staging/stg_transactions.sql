{#- Accepted transactions: one row per transaction_id, typed and cleaned, with amounts. -#}

with

validated as (
    select * from {{ ref('base_transactions') }}
    where reject_reason is null
)

select
    transaction_id,
    customer_id,
    transaction_ts,
    product_category,
    quantity,
    unit_price,
    discount_amount,
    channel,
    status,
    quantity * unit_price as gross_amount,
    quantity * unit_price - discount_amount as net_amount
from validated
