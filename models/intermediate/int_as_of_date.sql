{#-
    The one reference date of a build: var as_of_date, else the latest accepted transaction
    date, else (no transactions) the latest signup date (as_of_date_select).
-#}

with

transactions as (
    select * from {{ ref('stg_transactions') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

chosen as (
    {{ as_of_date_select('transactions', 'customers') }}
)

select * from chosen
