{#-
    Accepted transactions: one row per transaction_id, typed and cleaned, with amounts.
    Amounts are decimals (4 places) so that sums over them are exact, and the same on every
    run whatever order parallel aggregation adds them in.
-#}

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
    {{ to_money('discount_amount') }} as discount_amount,
    channel,
    status,
    loaded_at,
    {{ to_money('quantity * unit_price') }} as gross_amount,
    {{ to_money('quantity * unit_price') }} - {{ to_money('discount_amount') }} as net_amount
from validated
