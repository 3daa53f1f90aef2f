{#- Raw rows per input and outcome: reason null counts the accepted rows. -#}

with

{% set sources = raw_contract().keys() | list -%}
{% for source in sources -%}
    {{ source }}_outcomes as (
        select
            '{{ source }}' as source,
            reject_reason as reason,
            count(*) as row_count
        from {{ ref('base_' ~ source) }}
        group by 1, 2
    ),

{% endfor -%}
unioned as (
    {%- for source in sources %}
        select * from {{ source }}_outcomes
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

with_shares as (
    select
        source,
        reason,
        row_count as rows,
        cast(row_count as double) / sum(row_count) over (partition by source) as share_of_source
    from unioned
)

select * from with_shares
