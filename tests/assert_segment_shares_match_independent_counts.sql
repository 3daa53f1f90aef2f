{#-
    Each segment's size, revenue and their shares in segment_profiles match counts taken
    without dim_customer_segments: customers per segment from int_customer_segments over all
    accepted customers (stg_customers), revenue from the completed accepted transactions
    (stg_transactions) up to the as-of date, per segment and in total.
-#}

with

profiles as (
    select * from {{ ref('segment_profiles') }}
),

assignments as (
    select * from {{ ref('int_customer_segments') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

transactions as (
    select * from {{ ref('stg_transactions') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

completed as (
    select
        transactions.customer_id,
        transactions.net_amount
    from transactions
    cross join as_of
    where
        transactions.status = 'completed'
        and cast(transactions.transaction_ts as date) <= as_of.as_of_date
),

customer_total as (
    select count(*) as customers from customers
),

revenue_total as (
    select cast(coalesce(sum(net_amount), 0) as double) as revenue from completed
),

segment_customers as (
    select
        segment_id,
        count(*) as customers
    from assignments
    group by 1
),

segment_revenue as (
    select
        assignments.segment_id,
        cast(sum(completed.net_amount) as double) as revenue
    from completed
    inner join assignments on completed.customer_id = assignments.customer_id
    group by 1
),

expected as (
    select
        segment_customers.segment_id,
        segment_customers.customers,
        cast(segment_customers.customers as double) / customer_total.customers
            as customer_share,
        coalesce(segment_revenue.revenue, 0) as revenue,
        coalesce(segment_revenue.revenue / nullif(revenue_total.revenue, 0), 0) as revenue_share
    from segment_customers
    cross join customer_total
    cross join revenue_total
    left join segment_revenue on segment_customers.segment_id = segment_revenue.segment_id
),

compared as (
    select
        coalesce(expected.segment_id, profiles.segment_id) as segment_id,
        expected.customers as expected_customers,
        profiles.customers,
        expected.customer_share as expected_customer_share,
        profiles.customer_share,
        expected.revenue as expected_revenue,
        profiles.revenue,
        expected.revenue_share as expected_revenue_share,
        profiles.revenue_share
    from expected
    full outer join profiles on expected.segment_id = profiles.segment_id
),

mismatches as (
    select * from compared
    where
        customers is distinct from expected_customers
        or coalesce(abs(customer_share - expected_customer_share) > 1e-9, true)
        or coalesce(abs(revenue - expected_revenue) > 1e-6 * greatest(1, abs(expected_revenue)), true)
        or coalesce(abs(revenue_share - expected_revenue_share) > 1e-9, true)
)

select * from mismatches
