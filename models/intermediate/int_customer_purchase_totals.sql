{#-
    Purchase totals per customer with at least one accepted transaction up to the as-of date:
    everything int_transactions_aggregated_to_customers holds but what depends on the as-of
    date itself (recency). Orders are completed transactions; returns and cancellations only
    feed return_rate.

    Incremental on DuckDB: a build re-totals only the customers with transactions loaded
    since its last build (stg_transactions.loaded_at) or dated after the as-of date it
    totalled through (a later as-of date takes them into the window); every customer when
    base_transactions validated every row again or the as-of date moved back (pre_hook).
-#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail',
    pre_hook="{{ custseg.reset_purchase_totals() }}",
) }}

with

transactions as {{ recomputed() }} (
    select * from {{ ref('stg_transactions') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

as_of as (
    -- This build's as-of date (int_as_of_date's definition, from the same staging models).
    {{ as_of_date_select('transactions', 'customers') }}
),

in_window as {{ recomputed() }} (
    select transactions.*
    from transactions
    cross join as_of
    where
        {{ up_to_as_of('transactions.transaction_ts') }}
        -- An incremental build: only the customers it re-totals.
        and {{ "transactions.customer_id in (" ~ custseg.customers_to_retotal('transactions') ~ ")"
            if is_incremental() else "true" }}
),

loaded as (
    select max(loaded_at) as loaded_through from transactions
),

totals as (
    select
        customer_id,
        count(case when status = 'completed' then 1 end) as frequency,
        count(case when status = 'returned' then 1 end) as returned_orders,
        cast(coalesce(sum(case when status = 'completed' then net_amount end), 0) as double)
            as monetary,
        sum(case when status = 'completed' then discount_amount end) as completed_discount,
        sum(case when status = 'completed' then gross_amount end) as completed_gross,
        avg(case when status = 'completed' then quantity end) as avg_basket_quantity,
        count(distinct case
            when status = 'completed' and product_category != 'unknown' then product_category
        end) as category_diversity,
        min(case when status = 'completed' then transaction_ts end) as first_purchase_at,
        max(case when status = 'completed' then transaction_ts end) as last_purchase_at
    from in_window
    group by 1
),

channel_counts as (
    select
        customer_id,
        channel,
        count(*) as orders
    from in_window
    where status = 'completed' and channel is not null
    group by 1, 2
),

preferred_channel as (
    -- Ties go to the alphabetically first channel, so the answer never depends on row order.
    select
        customer_id,
        channel as preferred_channel,
        row_number() over (partition by customer_id order by orders desc, channel asc) as channel_rank
    from channel_counts
),

category_counts as (
    select
        customer_id,
        product_category,
        count(*) as orders
    from in_window
    where status = 'completed' and product_category != 'unknown'
    group by 1, 2
),

preferred_category as (
    select
        customer_id,
        product_category as preferred_category,
        row_number() over (
            partition by customer_id order by orders desc, product_category asc
        ) as category_rank
    from category_counts
),

joined as (
    select
        totals.customer_id,
        totals.frequency,
        totals.returned_orders,
        totals.monetary,
        case when totals.frequency > 0 then totals.monetary / totals.frequency end
            as avg_order_value,
        totals.avg_basket_quantity,
        case
            when totals.completed_gross > 0
                then cast(totals.completed_discount as double) / cast(totals.completed_gross as double)
        end as discount_share,
        case
            when totals.frequency + totals.returned_orders > 0
                then cast(totals.returned_orders as double) / (totals.frequency + totals.returned_orders)
        end as return_rate,
        totals.category_diversity,
        totals.first_purchase_at,
        totals.last_purchase_at,
        preferred_channel.preferred_channel,
        preferred_category.preferred_category,
        as_of.as_of_date,
        loaded.loaded_through
    from totals
    cross join as_of
    cross join loaded
    left join preferred_channel
        on totals.customer_id = preferred_channel.customer_id
            and preferred_channel.channel_rank = 1
    left join preferred_category
        on totals.customer_id = preferred_category.customer_id
            and preferred_category.category_rank = 1
)

select * from joined
