{#-
    Every raw campaign contact, typed, with the first reason it fails validation (null =
    accepted); the rules are macros/inputs/checked_campaign_contacts.sql. A contacted_at that
    does not parse or lies outside min_valid_ts..max_valid_ts is invalid. One contact per
    campaign and customer, the first valid one (of the earliest file): later copies are
    duplicate_contact when every raw value equals the kept row's, else conflicting_contact.
    CSV records DuckDB cannot parse are csv_* rejects.

    Incremental on DuckDB as base_transactions is (macros/inputs/incremental_input.sql): a
    build validates only the files of campaign_contacts/ it has not seen, against the contacts
    already accepted, unless what it validated before would now get another answer.
-#}
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ custseg.capture_raw_input('campaign_contacts', 'source_file', incremental=true) }}",
        "{{ custseg.clear_for_revalidation('campaign_contacts') }}",
    ],
    post_hook="{{ custseg.release_raw_input('campaign_contacts', incremental=true) }}",
) }}
{%- set contract = raw_contract()['campaign_contacts'] -%}
{%- set keys = raw_keys()['campaign_contacts'] -%}
{%- set increment = custseg.input_increment('campaign_contacts') -%}

with

source as (
    select * from {{ raw_input('campaign_contacts', 'source_file', incremental=true) }}
),

malformed as (
    select * from {{ raw_malformed_rows('campaign_contacts', incremental=true) }}
),

campaigns as (
    {{ accepted_ids('campaigns') }}
),

customers as (
    {{ accepted_ids('customers') }}
),

accepted_before as (
    -- The contacts earlier builds accepted, with a hash of their raw values (none unless
    -- appending).
    {{ accepted_before(increment, keys) }}
),

checked as (
    {{ custseg.checked_campaign_contacts('source', custseg.min_valid_ts(), custseg.max_valid_ts()) }}
),

validated as (
    -- Among copies of a contact the first valid one (of the earliest file) wins; the rest are
    -- duplicates.
    select * from {{ reject_copies(
        'checked', keys, contract, '_row_reason nulls first, source_file', 'contact'
    ) }}
),

parsed_rows as (
    select
        campaign_id,
        customer_id,
        contacted_at,
        coalesce(responded, false) as responded,
        coalesce(response_revenue, 0) as response_revenue,
        source_file,
        raw_hash,
        reject_reason,
        {{ raw_record_if_rejected(contract) }} as raw_record
    from validated
),

loaded as (
    {{ custseg.loaded_rows('campaign_contacts', increment, 'parsed_rows', 'malformed') }}
)

select * from loaded
