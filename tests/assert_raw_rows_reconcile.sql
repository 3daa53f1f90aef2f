{#-
    No silent loss: for every input, raw records = accepted rows + rejected rows, and
    data_quality_summary accounts for exactly the raw records. Raw records are counted straight
    from the input (seed or file) while this test compiles, independently of the staging
    models: the rows DuckDB parsed plus, for a CSV file, the records it could not parse. Per reason, data_quality_summary and stg_rejects agree exactly.
-#}
{%- set sources = raw_contract().keys() | list -%}

with

raw_counts as (
    {%- for source in sources %}
        select
            '{{ source }}' as source,
            {{ raw_record_count(source) }} as raw_rows
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

accepted_counts as (
    {%- for source in sources %}
        select
            '{{ source }}' as source,
            count(*) as accepted_rows
        from {{ ref('stg_' ~ source) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

rejects as (
    select * from {{ ref('stg_rejects') }}
),

summary as (
    select * from {{ ref('data_quality_summary') }}
),

rejected_counts as (
    select
        source,
        count(*) as rejected_rows
    from rejects
    group by 1
),

summary_counts as (
    select
        source,
        sum(rows) as summary_rows,
        sum(case when reason is null then rows else 0 end) as summary_accepted_rows
    from summary
    group by 1
),

compared as (
    select
        raw_counts.source,
        cast(null as {{ dbt.type_string() }}) as reason,
        raw_counts.raw_rows,
        accepted_counts.accepted_rows,
        coalesce(rejected_counts.rejected_rows, 0) as rejected_rows,
        coalesce(summary_counts.summary_rows, 0) as summary_rows
    from raw_counts
    inner join accepted_counts on raw_counts.source = accepted_counts.source
    left join rejected_counts on raw_counts.source = rejected_counts.source
    left join summary_counts on raw_counts.source = summary_counts.source
    where
        raw_counts.raw_rows != accepted_counts.accepted_rows + coalesce(rejected_counts.rejected_rows, 0)
        or raw_counts.raw_rows != coalesce(summary_counts.summary_rows, 0)
        or accepted_counts.accepted_rows != coalesce(summary_counts.summary_accepted_rows, 0)
),

rejects_per_reason as (
    select
        source,
        reject_reason as reason,
        count(*) as rejected_rows
    from rejects
    group by 1, 2
),

summary_per_reason as (
    select
        source,
        reason,
        rows as summary_rows
    from summary
    where reason is not null
),

reasons_compared as (
    select
        coalesce(rejects_per_reason.source, summary_per_reason.source) as source,
        coalesce(rejects_per_reason.reason, summary_per_reason.reason) as reason,
        null as raw_rows,
        null as accepted_rows,
        rejects_per_reason.rejected_rows,
        summary_per_reason.summary_rows
    from rejects_per_reason
    full outer join summary_per_reason
        on
            rejects_per_reason.source = summary_per_reason.source
            and rejects_per_reason.reason = summary_per_reason.reason
    where rejects_per_reason.rejected_rows is distinct from summary_per_reason.summary_rows
),

mismatches as (
    select * from compared
    union all
    select * from reasons_compared
)

select * from mismatches
