select
    campaign_id,
    campaign_name,
    channel,
    offer_type,
    start_date,
    end_date
from campaigns
order by campaign_no
