{#-
    Every raw transaction row, typed and cleaned, with the first reason it fails validation
    (null = accepted). Cleaning, not rejecting: a null quantity counts as 1, a null discount as 0,
    a null status as completed, an unknown or missing category as 'unknown'. Of rows sharing a
    transaction_id the first valid one is kept; the others are duplicate_transaction_id when
    every raw value equals the kept row's, else conflicting_transaction_id. CSV records DuckDB
    cannot parse are csv_* rejects.

    Incremental on DuckDB (macros/inputs/incremental_input.sql): a build validates only the
    files it has not seen, or the rows of a table it does not hold yet, against the rows
    already accepted (a copy of an accepted id in a new delivery is a duplicate or
    conflicting), unless what it validated before would now get another answer; then it
    empties the table and validates every row again. --full-refresh rebuilds the table.
-#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ custseg.capture_raw_input('transactions', 'source_file', incremental=true) }}",
        "{{ custseg.clear_for_revalidation('transactions') }}",
    ],
    post_hook="{{ custseg.release_raw_input('transactions', incremental=true) }}",
) }}
{%- set contract = raw_contract()['transactions'] -%}
{%- set keys = raw_keys()['transactions'] -%}
{%- set increment = custseg.input_increment('transactions') -%}
{%- set input_rows = raw_input('transactions', 'source_file', incremental=true) -%}
{%- set min_valid_ts = custseg.min_valid_ts() -%}
{%- set max_valid_ts = custseg.max_valid_ts() -%}

with

source as (
    select * from {{ input_rows }}
),

malformed as (
    select * from {{ raw_malformed_rows('transactions', incremental=true) }}
),

customers as (
    {{ accepted_ids('customers') }}
),

accepted_before as (
    -- The ids earlier builds accepted, with a hash of their raw values (none unless appending).
    {{ accepted_before(increment, keys) }}
),

repeated_ids as (
    -- The ids more than one row of this build's input carries, from a read of the ids alone.
    select {{ to_id('transaction_id') }} as transaction_id
    from {{ input_rows }} as raw_ids
    where {{ to_id('transaction_id') }} is not null
    group by 1
    having count(*) > 1
),

repeated_source as (
    -- Their rows, read again: the only rows ranked against each other.
    select raw_rows.*
    from {{ input_rows }} as raw_rows
    where {{ to_id('raw_rows.transaction_id') }} in (select repeated_ids.transaction_id from repeated_ids)
),

checked as (
    {{ custseg.checked_transactions('source', min_valid_ts, max_valid_ts) }}
),

repeated_checked as (
    {{ custseg.checked_transactions('repeated_source', min_valid_ts, max_valid_ts) }}
),

validated as (
    -- Among rows sharing an id the first valid one (of the earliest file) wins; the rest are
    -- duplicates.
    select * from {{ reject_copies(
        'checked', keys, contract, '_row_reason nulls first, source_file', 'transaction_id',
        repeated={'keys': 'repeated_ids', 'rows': 'repeated_checked'}
    ) }}
),

parsed_rows as (
    select
        transaction_id,
        customer_id,
        transaction_ts,
        case
            when _category_text is null
                or _category_text in ('', 'n/a', 'na', 'none', 'null', 'unknown')
                or not {{ matches_pattern('_category_text', '[a-z][a-z0-9_&-]*') }}
                then 'unknown'
            else _category_text
        end as product_category,
        coalesce(quantity, 1) as quantity,
        unit_price,
        coalesce(discount_amount, 0) as discount_amount,
        channel,
        status,
        source_file,
        raw_hash,
        reject_reason,
        {{ raw_record_if_rejected(contract) }} as raw_record
    from validated
),

loaded as (
    {{ custseg.loaded_rows('transactions', increment, 'parsed_rows', 'malformed') }}
)

select * from loaded
