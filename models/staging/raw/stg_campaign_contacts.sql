{#- Accepted campaign contacts: one row per campaign and customer. -#}

with

validated as (
    select * from {{ ref('base_campaign_contacts') }}
    where reject_reason is null
)

select
    campaign_id,
    customer_id,
    contacted_at,
    responded,
    response_revenue
from validated
