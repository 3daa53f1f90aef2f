with

pairs as (
    select
        cust.i * 16 + campaigns.campaign_no as pair_key,
        cust.i,
        cust.customer_id,
        cust.behaviour,
        cust.response_value,
        campaigns.campaign_id,
        campaigns.offer_type,
        campaigns.start_date,
        greatest(campaigns.end_date, campaigns.start_date + 6) as last_date
    from cust
    cross join campaigns
    where cust.signup_date <= campaigns.start_date
),

contacted as (
    select
        pairs.*,
        pairs.start_date::timestamp + to_seconds(floor(
            u(pairs.pair_key, :salt_contact_time)
            * (pairs.last_date - pairs.start_date + 1) * 86400
        )::bigint) as contacted_at,
        u(pairs.pair_key, :salt_respond) < rates.response_prob as responded
    from pairs
    inner join response_rates as rates
        on pairs.offer_type = rates.offer_type and pairs.behaviour = rates.behaviour
    where u(pairs.pair_key, :salt_contact) < :contact_rate
),

copies as (
    select
        *,
        :extra_row_case as extra_row,
        unnest(case when :extra_row_case is null then [0] else [0, 1] end) as copy_no
    from contacted
),

rows as (
    select
        pair_key,
        copy_no,
        case when copy_no = 1 and extra_row = 'orphan_campaign' then 'CMP99'
            else campaign_id
        end as campaign_id,
        case
            when copy_no = 1 and extra_row = 'orphan_customer'
                then printf(
                        ':customer_id_format',
                        :n_customers + 1 + floor(u(pair_key, :salt_orphan) * :orphan_pool)::bigint
                    )
            else customer_id
        end as customer_id,
        contacted_at,
        responded,
        case
            when responded
                then round(
                        response_value
                        * exp(0.6 * std_normal(pair_key, :salt_rev_a, :salt_rev_b)),
                        2
                    )
            else 0
        end::decimal(12, 2) as response_revenue
    from copies
)

select
    campaign_id,
    customer_id,
    contacted_at,
    responded,
    response_revenue
from rows
order by campaign_id, customer_id, pair_key, copy_no
