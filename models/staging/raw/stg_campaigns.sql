{#- Accepted campaigns: one row per campaign_id. -#}

with

validated as (
    select * from {{ ref('base_campaigns') }}
    where reject_reason is null
)

select
    campaign_id,
    campaign_name,
    channel,
    offer_type,
    start_date,
    end_date
from validated
