{#-
    The one reference date of a build: var as_of_date, else the latest accepted transaction
    date, else (no transactions) the latest signup date.
-#}

with

transactions as (
    select * from {{ ref('stg_transactions') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

latest_transaction as (
    select max(cast(transaction_ts as date)) as latest_date from transactions
),

latest_signup as (
    select max(signup_date) as latest_date from customers
),

chosen as (
    select
        coalesce(
            {%- if var('as_of_date') %}
            cast('{{ var("as_of_date") }}' as date),
            {%- endif %}
            latest_transaction.latest_date,
            latest_signup.latest_date,
            current_date
        ) as as_of_date
    from latest_transaction
    cross join latest_signup
)

select * from chosen
