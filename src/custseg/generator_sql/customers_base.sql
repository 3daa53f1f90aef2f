create table cust as
with

ids as (
    select range + 1 as i from range(:n_customers)
),

labelled as (
    select
        ids.i,
        b.*
    from ids
    inner join behaviours as b
        on u(ids.i, :salt_behaviour) >= b.share_from and u(ids.i, :salt_behaviour) < b.share_to
),

drawn as (
    select
        *,
        signup_from + floor(
            u(i, :salt_signup) * (signup_to - signup_from + 1)
        )::integer as signup_date,
        lag_min + floor(u(i, :salt_lag) * (lag_max - lag_min + 1))::integer as lag_days,
        value_level * exp(0.25 * std_normal(i, :salt_value_a, :salt_value_b)) as customer_value,
        1 + floor(u(i, :salt_fav_category) * :category_count)::integer as fav_category,
        1 + floor(u(i, :salt_fav_channel) * :channel_count)::integer as fav_channel,
        exp(0.5 * std_normal(i, :salt_rate_a, :salt_rate_b) - 0.125) as rate_noise
    from labelled
),

active as (
    select
        *,
        greatest(timestamp ':window_start', signup_date::timestamp) as active_start,
        timestamp ':window_end_exclusive' - to_days(lag_days) as active_end
    from drawn
),

weighted as (
    select
        *,
        epoch(active_end) - epoch(active_start) as span_seconds,
        -- New customers draw 1-6 orders; everyone else gets an integer weight (order rate x
        -- active share of the window x lognormal noise) that is scaled to the remaining total.
        case
            when name = 'new_customer'
                then least(6, 1 + floor(-ln(u(i, :salt_new_orders)) * 1.8))::bigint
            else 0
        end as new_orders,
        case when name = 'new_customer' then 0
            else round(
                    1e6 * order_rate * (epoch(active_end) - epoch(active_start))
                    / (:window_days * 86400) * rate_noise
                )::bigint
        end as weight
    from active
),

totals as (
    select
        sum(new_orders) as new_total,
        nullif(sum(weight), 0) as weight_total
    from weighted
),

counted as (
    select
        weighted.*,
        case when weighted.name = 'new_customer' then weighted.new_orders
            else greatest(1, floor(
                    weighted.weight * greatest(:n_transactions - totals.new_total, 0)
                    / totals.weight_total
                    + u(weighted.i, :salt_order_rounding)
                ))::bigint
        end as n_tx
    from weighted
    cross join totals
)

select
    i,
    printf(':customer_id_format', i) as customer_id,
    name as behaviour,
    * exclude (i, name, share_from, share_to), -- noqa: AM04
    (sum(n_tx) over (order by i) - n_tx)::bigint as tx_offset
from counted
