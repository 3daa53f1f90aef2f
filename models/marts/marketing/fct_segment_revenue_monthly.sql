{#-
    Revenue, orders and active customers per segment and calendar month: completed orders up to
    the as-of date, by the segment each customer is in now (as in dim_customer_segments), so a
    segment's months add up to its revenue in segment_profiles. One row for every segment and
    every month with at least one completed order, zeros included, so charts have no gaps.
-#}

with

transactions as (
    select * from {{ ref('stg_transactions') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

customers as (
    select * from {{ ref('int_customer_segments') }}
),

segments as (
    select * from {{ ref('dim_segments') }}
),

completed_orders as (
    select
        customers.segment_id,
        transactions.customer_id,
        cast(date_trunc('month', transactions.transaction_ts) as date) as revenue_month,
        transactions.net_amount
    from transactions
    cross join as_of
    inner join customers on transactions.customer_id = customers.customer_id
    where
        transactions.status = 'completed'
        and {{ up_to_as_of('transactions.transaction_ts') }}
),

per_segment_month as (
    select
        segment_id,
        revenue_month,
        sum(net_amount) as revenue,
        count(*) as orders,
        count(distinct customer_id) as active_customers
    from completed_orders
    group by 1, 2
),

months as (
    -- From the per-segment sums, not the orders again: the orders stream through once.
    select distinct revenue_month from per_segment_month
),

segment_ids as (
    select distinct segment_id from customers
),

segment_months as (
    select
        segment_ids.segment_id,
        segments.segment_name,
        months.revenue_month,
        cast(coalesce(per_segment_month.revenue, 0) as double) as revenue,
        coalesce(per_segment_month.orders, 0) as orders,
        coalesce(per_segment_month.active_customers, 0) as active_customers
    from segment_ids
    cross join months
    left join segments on segment_ids.segment_id = segments.segment_id
    left join per_segment_month
        on
            segment_ids.segment_id = per_segment_month.segment_id
            and months.revenue_month = per_segment_month.revenue_month
)

select * from segment_months
