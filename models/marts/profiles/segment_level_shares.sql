{#-
    A categorical centroid as people read it: for each segment of the latest fit and each level
    of each categorical clustering feature (int_segment_fit_levels), how many of the segment's
    customers have that level and their share of the segment ("78% Gold members"), beside the
    level's share of all customers. A value the fit did not see counts as its 'other' level.
    Empty for a numeric-only fit.
-#}
{%- set categorical = categorical_segmentation_features() -%}

with

prepared as (
    select * from {{ ref('int_customer_features_prepared') }}
),

segments as (
    select * from {{ ref('int_customer_segments') }}
),

fit_levels as (
    select * from {{ ref('int_segment_fit_levels') }}
),

customer_values as (
    {%- for feature in categorical %}
        select
            customer_id,
            cast({{ sql_string(feature) }} as {{ dbt.type_string() }}) as feature,
            {{ feature }} as feature_value
        from prepared
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- else %}
        -- A numeric-only fit: no categorical values (fit_levels is empty too).
        select
            customer_id,
            cast(null as {{ dbt.type_string() }}) as feature,
            cast(null as {{ dbt.type_string() }}) as feature_value
        from prepared
        where false
    {%- endfor %}
),

customer_levels as (
    select
        customer_values.customer_id,
        segments.segment_id,
        customer_values.feature,
        coalesce(named.level, 'other') as level -- noqa: RF04
    from customer_values
    inner join segments on customer_values.customer_id = segments.customer_id
    left join fit_levels as named
        on
            customer_values.feature = named.feature
            and customer_values.feature_value = named.level
            and named.level != 'other'
),

level_counts as (
    select
        segment_id,
        feature,
        level,
        count(*) as customers
    from customer_levels
    group by 1, 2, 3
),

segment_sizes as (
    select
        segment_id,
        count(*) as segment_customers
    from segments
    group by 1
),

feature_totals as (
    select
        feature,
        level,
        count(*) as customers
    from customer_levels
    group by 1, 2
),

all_customers as (
    select count(*) as customers from segments
),

grid as (
    select
        segment_sizes.segment_id,
        segment_sizes.segment_customers,
        fit_levels.feature,
        fit_levels.level,
        fit_levels.level_order
    from segment_sizes
    cross join fit_levels
),

shares as (
    select
        grid.segment_id,
        grid.feature,
        grid.level,
        cast(grid.level_order as integer) as level_order,
        cast(coalesce(level_counts.customers, 0) as bigint) as customers,
        cast(coalesce(level_counts.customers, 0) as double) / grid.segment_customers as share, -- noqa: RF04
        cast(coalesce(feature_totals.customers, 0) as double) / all_customers.customers
            as overall_share
    from grid
    cross join all_customers
    left join level_counts
        on
            grid.segment_id = level_counts.segment_id
            and grid.feature = level_counts.feature
            and grid.level = level_counts.level
    left join feature_totals
        on grid.feature = feature_totals.feature and grid.level = feature_totals.level
)

select * from shares
