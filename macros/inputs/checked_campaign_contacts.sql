{% macro checked_campaign_contacts(input, min_valid_ts, max_valid_ts) -%}
    {#-
        The rules of base_campaign_contacts: the rows of `input` (a CTE of raw contact rows),
        typed, each with the first rule it breaks (_row_reason; null: none; the copies of a
        campaign and customer are ranked after). Reads the model's CTEs campaigns and
        customers (accepted ids) and accepted_before (the contacts earlier builds accepted).
        `min_valid_ts`, `max_valid_ts`: the validity window (validity.sql), given so that
        validation_version can render the rules without this build's clock.
    -#}
    {%- set contract = raw_contract()['campaign_contacts'] -%}
    {%- set formats = custseg.input_timestamp_formats('campaign_contacts') -%}
    select
        typed.*,
        case
            when typed.campaign_id is null then 'missing_campaign_id'
            when typed.customer_id is null then 'missing_customer_id'
            when typed.raw_contacted_at is not null and not coalesce(
                    typed.contacted_at between cast('{{ min_valid_ts }}' as timestamp)
                    and cast('{{ max_valid_ts }}' as timestamp),
                    false
                )
                then 'invalid_contacted_at'
            when typed.raw_responded is not null and typed.responded is null
                then 'invalid_responded'
            when typed.raw_response_revenue is not null
                and not coalesce(typed.response_revenue >= 0, false)
                then 'invalid_response_revenue'
            when campaigns.campaign_id is null then 'orphan_campaign_id'
            when customers.customer_id is null then 'orphan_customer_id'
            -- A copy of a row an earlier build accepted.
            {{ custseg.accepted_copy_reasons('campaign_id', 'contact') }}
        end as _row_reason
    from (
        select
            {{- custseg.loaded_raw_values(contract) }}
            {{ to_id('campaign_id') }} as campaign_id,
            {{ to_id('customer_id') }} as customer_id,
            {{ parse_timestamp('contacted_at', formats['contacted_at']) }} as contacted_at,
            {{ to_boolean('responded') }} as responded,
            {{ to_number('response_revenue') }} as response_revenue
        from {{ input }}
    ) as typed
    left join campaigns on typed.campaign_id = campaigns.campaign_id
    left join customers on typed.customer_id = customers.customer_id
    left join accepted_before
        on
            typed.campaign_id = accepted_before.campaign_id
            and typed.customer_id = accepted_before.customer_id
{%- endmacro %}
