{#-
    One row per segment: its name, size, revenue and their shares, and the headline feature
    averages: avg_<feature> (avg_order_value for avg_order_value) for every catalogue feature
    whose column the contract lists.
-#}
{%- set averages = {} -%}
{%- for feature in numeric_feature_columns() -%}
    {%- set column = feature if feature.startswith('avg_') else 'avg_' ~ feature -%}
    {%- if column in model.columns -%}
        {%- do averages.update({column: feature}) -%}
    {%- endif -%}
{%- endfor %}

with

customers as (
    select * from {{ ref('dim_customer_segments') }}
),

segments as (
    select * from {{ ref('dim_segments') }}
),

per_segment as (
    select
        segment_id,
        count(*) as customers,
        sum(monetary) as revenue,
        {%- for column, feature in averages.items() %}
            {{ bounded_avg(feature) }} as {{ column }},
        {%- endfor %}
        avg(case when has_purchases then 1 else 0 end) as purchaser_share
    from customers
    group by 1
),

with_shares as (
    select
        per_segment.segment_id,
        segments.segment_name,
        per_segment.customers,
        cast(per_segment.customers as double) / sum(per_segment.customers) over () as customer_share,
        per_segment.revenue,
        coalesce(per_segment.revenue / nullif(sum(per_segment.revenue) over (), 0), 0)
            as revenue_share,
        {%- for column in averages %}
            per_segment.{{ column }},
        {%- endfor %}
        per_segment.purchaser_share
    from per_segment
    left join segments on per_segment.segment_id = segments.segment_id
)

select * from with_shares
