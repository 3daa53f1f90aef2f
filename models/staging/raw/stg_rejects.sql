{#- Every raw row that failed validation, from every input, with its reason and raw values. -#}

with

{% set sources = raw_contract().keys() | list -%}
{% for source in sources -%}
    {{ source }}_rejects as (
        select
            '{{ source }}' as source,
            reject_reason,
            raw_record
        from {{ ref('base_' ~ source) }}
        where reject_reason is not null
    ),

{% endfor -%}
unioned as (
    {%- for source in sources %}
        select * from {{ source }}_rejects
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from unioned
