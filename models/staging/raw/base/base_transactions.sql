{#-
    Every raw transaction row, typed and cleaned, with the first reason it fails validation
    (null = accepted). Cleaning, not rejecting: a null quantity counts as 1, a null discount as 0,
    a null status as completed, an unknown or missing category as 'unknown'. Of rows sharing a
    transaction_id the first valid one is kept; the others are duplicate_transaction_id when
    every raw value equals the kept row's, else conflicting_transaction_id. CSV records DuckDB
    cannot parse are csv_* rejects.

    Incremental on DuckDB (macros/inputs/incremental_input.sql): a build validates only the
    files it has not seen, against the rows already accepted (a copy of an accepted id in a
    new file is a duplicate or conflicting), unless what it validated before would now get
    another answer; then it validates every file again and replaces the rows of each
    (delete+insert by source_file). --full-refresh rebuilds the table.
-#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='delete+insert',
    unique_key='source_file',
    on_schema_change='fail',
    pre_hook=[
        "{{ custseg.capture_raw_input('transactions', 'source_file', incremental=true) }}",
        "{{ custseg.drop_gone_sources('transactions') }}",
    ],
    post_hook="{{ custseg.release_raw_input('transactions') }}",
) }}
{%- set contract = raw_contract()['transactions'] -%}
{%- set increment = custseg.input_increment('transactions') -%}
{%- set min_valid_ts = custseg.min_valid_ts() -%}
{%- set max_valid_ts = custseg.max_valid_ts() -%}
{%- set formats = custseg.input_timestamp_formats('transactions') -%}

with

source as (
    select * from {{ raw_input('transactions', increment.files, 'source_file') }}
),

malformed as (
    select * from {{ raw_malformed_rows('transactions', increment.files) }}
),

customers as (
    {{ accepted_customer_ids() }}
),

accepted_before as (
    -- The ids earlier builds accepted, with a hash of their raw values (none unless appending).
    {{ accepted_before(increment, 'transaction_id') }}
),

typed as (
    select
        {{- raw_values(contract) }}
        source_file,
        hash({{ contract | join(', ') }}) as raw_hash,
        {{ to_id('transaction_id') }} as transaction_id,
        {{ to_id('customer_id') }} as customer_id,
        {{ parse_timestamp('transaction_ts', formats['transaction_ts']) }} as transaction_ts,
        replace(lower(trim(product_category)), ' ', '_') as _category_text,
        {{ to_number('quantity') }} as quantity,
        {{ to_number('unit_price') }} as unit_price,
        {{ to_number('discount_amount') }} as discount_amount,
        {{ to_code('channel') }} as channel,
        coalesce(nullif(lower(trim(status)), ''), 'completed') as status
    from source
),

checked as (
    select
        typed.*,
        case
            when typed.transaction_id is null then 'missing_transaction_id'
            when typed.customer_id is null then 'missing_customer_id'
            when typed.transaction_ts is null then 'invalid_transaction_ts'
            when typed.transaction_ts > cast('{{ max_valid_ts }}' as timestamp)
                then 'future_transaction_ts'
            when typed.transaction_ts < cast('{{ min_valid_ts }}' as timestamp)
                then 'too_old_transaction_ts'
            when typed.raw_quantity is not null and not coalesce(typed.quantity > 0, false)
                then 'invalid_quantity'
            when typed.raw_unit_price is not null and not coalesce(typed.unit_price > 0, false)
                then 'invalid_unit_price'
            when typed.raw_discount_amount is not null and not coalesce(
                    typed.discount_amount between 0 and coalesce(typed.quantity, 1) * typed.unit_price,
                    typed.discount_amount >= 0,
                    false
                )
                then 'invalid_discount'
            when typed.status not in ('completed', 'returned', 'cancelled') then 'invalid_status'
            when customers.customer_id is null then 'orphan_customer_id'
            -- A copy of an id an earlier build accepted: a duplicate when its raw values are
            -- the same, else conflicting.
            when accepted_before.raw_hash = typed.raw_hash then 'duplicate_transaction_id'
            when accepted_before.transaction_id is not null then 'conflicting_transaction_id'
        end as _row_reason
    from typed
    left join customers on typed.customer_id = customers.customer_id
    left join accepted_before on typed.transaction_id = accepted_before.transaction_id
),

validated as (
    -- Among rows sharing an id the first valid one (of the earliest file) wins; the rest are
    -- duplicates.
    select * from {{ reject_copies(
        'checked', ['transaction_id'], contract, '_row_reason nulls first, source_file', 'transaction_id'
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

all_rows as (
    {{ with_malformed_rows('parsed_rows', 'malformed', contract + ['source_file', 'raw_hash']) }}
),

with_sources as (
    select
        {{ contract | join(', ') }},
        reject_reason,
        raw_record,
        -- A malformed CSV record's file: a CSV input is one file.
        coalesce(source_file, {{ custseg.sql_string(increment.sources[0].file if increment.sources else '') }})
            as source_file,
        {{ source_versions(increment.sources) }} as source_version,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as loaded_at,
        '{{ custseg.validation_version("transactions") }}' as validation_version,
        raw_hash
    from all_rows
)

select * from with_sources
