with

orders as (
    select
        *,
        behaviour <> 'new_customer' and n_tx >= 3 as defect_eligible,
        unnest(range(n_tx)) as k
    from cust
),

drawn as (
    select
        tx_offset + k + 1 as seq,
        customer_id,
        defect_eligible,
        -- Order k falls at a random point of the k-th of n_tx equal slots of the active
        -- period, so transaction ids increase with time within a customer.
        active_start + to_seconds(
            floor(
                (k + u(tx_offset + k + 1, :salt_ts)) / n_tx * span_seconds
            )::bigint
        ) as ts,
        case when u(tx_offset + k + 1, :salt_use_favourite) < favourite_prob then fav_category
            else 1 + floor(u(tx_offset + k + 1, :salt_category) * :category_count)::integer
        end as category_no,
        case when u(tx_offset + k + 1, :salt_use_favourite_channel) < 0.6 then fav_channel
            else 1 + floor(u(tx_offset + k + 1, :salt_channel) * :channel_count)::integer
        end as channel_no,
        1 + floor(-ln(u(tx_offset + k + 1, :salt_quantity)) * 0.6)::integer as quantity,
        customer_value * exp(0.45 * std_normal(tx_offset + k + 1, :salt_price_a, :salt_price_b))
            as price_level,
        case
            when u(tx_offset + k + 1, :salt_discounted) < discount_prob
                then discount_lo
                    + (discount_hi - discount_lo) * u(tx_offset + k + 1, :salt_discount)
            else 0
        end as discount_share,
        case when u(tx_offset + k + 1, :salt_status) < cancel_prob then 'cancelled'
            when u(tx_offset + k + 1, :salt_status) < cancel_prob + return_prob then 'returned'
            else 'completed'
        end as status
    from orders
),

priced as (
    select
        *,
        :categories[category_no] as category,
        :channels[channel_no] as channel,
        -- Shelf prices end in .99.
        (
            greatest(round(:category_prices[category_no] * price_level), 1) - 0.01
        )::decimal(12, 2) as unit_price
    from drawn
),

marked as (
    select
        *,
        round(quantity * unit_price * discount_share, 2)::decimal(12, 2) as discount_amount,
        case when defect_eligible then :defect_case end as defect,
        defect_eligible and u(seq, :salt_unknown_category) < :unknown_category_rate
            as unknown_category
    from priced
),

copies as (
    select
        *,
        unnest(
            case
                when defect is null and u(seq, :salt_duplicate) < :duplicate_rate then [0, 1]
                else [0]
            end
        ) as copy_no
    from marked
)

select
    case when defect = 'null_id' then null else printf('T%09d', seq) end as transaction_id,
    case
        when defect = 'orphan_customer'
            then printf(
                    ':customer_id_format', :n_customers + 1 + floor(u(seq, :salt_orphan) * :orphan_pool)::bigint
                )
        else customer_id
    end as customer_id,
    case defect
        when 'future_ts'
            then (
                timestamp '2090-01-01' + to_seconds(floor(u(seq, :salt_future) * 315532800)::bigint)
            )::varchar
        when 'bad_ts'
            then pick(
                    ['not a date', '2024-13-45 25:61:00', '31/02/2025 10:00', 'yesterday', '??'],
                    u(seq, :salt_bad_ts_kind)
                )
        else ts::varchar
    end as transaction_ts,
    case
        when unknown_category then pick(['N/A', 'misc??', ''], u(seq, :salt_unknown_kind))
        when u(seq, :salt_category_messy) < :messy_rate
            then messy(category, u(seq, :salt_category_messy_kind))
        else category
    end as product_category,
    case
        when defect = 'bad_quantity' then -floor(u(seq, :salt_bad_quantity) * 3)::integer
        -- Not every duplicate is exact: a fifth differ in quantity.
        when copy_no = 1 and u(seq, :salt_duplicate_variant) < 0.2 then quantity + 1
        else quantity
    end as quantity,
    case
        when defect = 'bad_price' and u(seq, :salt_bad_price) < 0.5 then 0.00
        when defect = 'bad_price' then -unit_price
        else unit_price
    end::decimal(12, 2) as unit_price,
    case
        when defect = 'negative_discount'
            then -(1 + floor(u(seq, :salt_negative_discount) * 20))
        else discount_amount
    end::decimal(12, 2) as discount_amount,
    case
        when u(seq, :salt_channel_messy) < :messy_rate
            then messy(channel, u(seq, :salt_channel_messy_kind))
        else channel
    end as channel,
    case
        when defect = 'invalid_status'
            then pick(['pending', 'processing', 'lost'], u(seq, :salt_invalid_status))
        when u(seq, :salt_status_messy) < :messy_rate
            then messy(status, u(seq, :salt_status_messy_kind))
        else status
    end as status
from copies
order by seq, copy_no
