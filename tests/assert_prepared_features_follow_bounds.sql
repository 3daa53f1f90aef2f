{#-
    int_customer_features_prepared holds exactly the customers of int_customer_features, and
    every feature with bounds in int_feature_bounds is prepared as they say: never null, inside
    [lower_bound, upper_bound] (after log1p where the transform is log1p), a missing value is
    the impute value, and a value already inside the bounds is kept.
-#}
{%- set feature_columns = numeric_feature_columns() -%}

with

features as (
    select * from {{ ref('int_customer_features') }}
),

prepared as (
    select * from {{ ref('int_customer_features_prepared') }}
),

bounds as (
    select * from {{ ref('int_feature_bounds') }}
    where lower_bound is not null and upper_bound is not null
),

customer_mismatches as (
    select
        coalesce(features.customer_id, prepared.customer_id) as customer_id,
        cast('customer sets differ' as {{ dbt.type_string() }}) as problem,
        cast(null as {{ dbt.type_string() }}) as feature,
        cast(null as double) as raw_value,
        cast(null as double) as prepared_value
    from features
    full outer join prepared on features.customer_id = prepared.customer_id
    where features.customer_id is null or prepared.customer_id is null
),

joined as (
    -- Each customer's raw and prepared features side by side: one join for every feature.
    select
        {%- for feature in feature_columns %}
            features.{{ feature }} as raw__{{ feature }},
            prepared.{{ feature }} as prepared__{{ feature }},
        {%- endfor %}
        features.customer_id
    from features
    inner join prepared on features.customer_id = prepared.customer_id
),

feature_names as (
    {{ feature_name_rows(feature_columns) }}
),

values_long as (
    select
        joined.customer_id,
        feature_names.feature,
        {{ feature_value_of('feature_names.feature', feature_columns, 'joined.raw__') }}
            as raw_value,
        {{ feature_value_of('feature_names.feature', feature_columns, 'joined.prepared__') }}
            as prepared_value
    from joined
    cross join feature_names
),

checked as (
    select
        values_long.customer_id,
        values_long.feature,
        values_long.raw_value,
        values_long.prepared_value,
        case when bounds.transform = 'log1p' then ln(1 + greatest(bounds.lower_bound, 0))
            else bounds.lower_bound
        end as lower_limit,
        case when bounds.transform = 'log1p' then ln(1 + greatest(bounds.upper_bound, 0))
            else bounds.upper_bound
        end as upper_limit,
        case when bounds.transform = 'log1p' then ln(1 + greatest(bounds.impute_value, 0))
            else bounds.impute_value
        end as imputed,
        case
            when bounds.transform = 'log1p' then ln(1 + greatest(values_long.raw_value, 0))
            else values_long.raw_value
        end as kept
    from values_long
    inner join bounds on values_long.feature = bounds.feature
),

value_mismatches as (
    select
        customer_id,
        case
            when prepared_value is null then 'null prepared value'
            when prepared_value < lower_limit - 1e-9 then 'below the lower bound'
            when prepared_value > upper_limit + 1e-9 then 'above the upper bound'
            when raw_value is null and abs(prepared_value - imputed) > 1e-9
                then 'missing value not imputed'
            when
                raw_value is not null and kept between lower_limit and upper_limit
                and abs(prepared_value - kept) > 1e-9
                then 'value inside the bounds changed'
        end as problem,
        feature,
        raw_value,
        prepared_value
    from checked
),

mismatches as (
    select * from customer_mismatches
    union all
    select * from value_mismatches
    where problem is not null
)

select * from mismatches
