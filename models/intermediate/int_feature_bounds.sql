{#-
    What the preparation of each numeric feature learned from all customers: winsorizing bounds
    (var winsorize_percentiles) and the imputation value (the median, or the upper bound where
    the feature catalogue says impute: upper_bound). A feature with no values has null bounds
    and is left out of the clustering.
-#}
{%- set catalogue = feature_catalogue() -%}
{%- set features = catalogue.keys() | list -%}
{%- set lower_fraction, upper_fraction = var('winsorize_percentiles') -%}

with

features as (
    select * from {{ ref('int_customer_features') }}
),

quantiles as (
    select
    {% for feature in features -%}
            count({{ feature }}) as {{ feature }}__non_null,
            {{ percentiles(feature, [lower_fraction, 0.5, upper_fraction]) }} as {{ feature }}__quantiles
            {{- "," if not loop.last }}
    {% endfor %}
    from features
),

statistics as (
    select
    {% for feature in features -%}
            {{ feature }}__non_null,
            {{ list_item(feature ~ '__quantiles', 1) }} as {{ feature }}__lower,
            {{ list_item(feature ~ '__quantiles', 2) }} as {{ feature }}__median,
            {{ list_item(feature ~ '__quantiles', 3) }} as {{ feature }}__upper
            {{- "," if not loop.last }}
    {% endfor %}
    from quantiles
),

long_form as (
    {%- for feature in features %}
        select
            '{{ feature }}' as feature,
            {{ loop.index }} as feature_order,
            {{ 'true' if catalogue[feature].default else 'false' }} as is_default_feature,
            {{ feature }}__non_null as non_null_rows,
            cast({{ feature }}__lower as double) as lower_bound,
            cast({{ feature }}__upper as double) as upper_bound,
            {%- if catalogue[feature].impute == 'upper_bound' %}
                'upper_bound' as impute_strategy,
                cast({{ feature }}__upper as double) as impute_value,
            {%- else %}
                'median' as impute_strategy,
                cast({{ feature }}__median as double) as impute_value,
            {%- endif %}
            '{{ catalogue[feature].transform }}' as transform,
            '{{ catalogue[feature].source }}' as source_model
        from statistics
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from long_form
