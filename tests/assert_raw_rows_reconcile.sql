{#-
    No silent loss: for every input, raw rows = accepted rows + rejected rows, and
    data_quality_summary accounts for exactly the raw rows. Raw rows are counted straight from
    the input (seed or file), independently of the staging models.
-#}
{%- set sources = raw_contract().keys() | list -%}

with

raw_counts as (
    {%- for source in sources %}
        select
            '{{ source }}' as source,
            count(*) as raw_rows
        from {{ raw_source(source) }} as raw_{{ source }}
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

rejected_counts as (
    select
        source,
        count(*) as rejected_rows
    from {{ ref('stg_rejects') }}
    group by 1
),

summary_counts as (
    select
        source,
        sum(rows) as summary_rows
    from {{ ref('data_quality_summary') }}
    group by 1
),

compared as (
    select
        raw_counts.source,
        raw_counts.raw_rows,
        accepted_counts.accepted_rows,
        coalesce(rejected_counts.rejected_rows, 0) as rejected_rows,
        coalesce(summary_counts.summary_rows, 0) as summary_rows
    from raw_counts
    inner join accepted_counts on raw_counts.source = accepted_counts.source
    left join rejected_counts on raw_counts.source = rejected_counts.source
    left join summary_counts on raw_counts.source = summary_counts.source
)

select * from compared
where
    raw_rows != accepted_rows + rejected_rows
    or raw_rows != summary_rows
