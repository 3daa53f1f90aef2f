{% macro checked_transactions(input, min_valid_ts, max_valid_ts) -%}
    {#-
        The rules of base_transactions: the rows of `input` (a CTE of raw transaction rows),
        typed, each with the first rule it breaks (_row_reason; null: none; the copies of an id
        are ranked after). The model checks its input with it, and once more the rows whose
        transaction_id more than one row carries, read again, so the copies are ranked without
        the database holding every row back until the repeated ids are known. Reads the
        model's CTEs customers (accepted ids) and accepted_before (ids earlier builds accepted).
        `min_valid_ts`, `max_valid_ts`: the validity window (validity.sql), given so that
        validation_version can render the rules without this build's clock.
    -#}
    {%- set contract = raw_contract()['transactions'] -%}
    {%- set formats = custseg.input_timestamp_formats('transactions') -%}
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
            -- A copy of a row an earlier build accepted.
            {{ custseg.accepted_copy_reasons('transaction_id', 'transaction_id') }}
        end as _row_reason
    from (
        select
            {{- custseg.loaded_raw_values(contract) }}
            {{ to_id('transaction_id') }} as transaction_id,
            {{ to_id('customer_id') }} as customer_id,
            {{ parse_timestamp('transaction_ts', formats['transaction_ts']) }} as transaction_ts,
            replace(lower(trim(product_category)), ' ', '_') as _category_text,
            {{ to_number('quantity') }} as quantity,
            {{ to_number('unit_price') }} as unit_price,
            {{ to_number('discount_amount') }} as discount_amount,
            {{ to_code('channel') }} as channel,
            coalesce(nullif(lower(trim(status)), ''), 'completed') as status
        from {{ input }}
    ) as typed
    left join customers on typed.customer_id = customers.customer_id
    left join accepted_before on typed.transaction_id = accepted_before.transaction_id
{%- endmacro %}
