{#-
    How a feature value becomes a model input: impute, winsorize, log-transform. One rule
    (prepared_value) for the two places that apply it: int_customer_features_prepared, the
    fit's input, prepares every feature with what int_feature_bounds learned from this build's
    customers (prepare_features); scoring (assign_segment and the predict_segment macros,
    macros/assign_segment.sql) prepares with what the fit stored, never with the current data.
-#}

{% macro prepared_value(value, impute_value, lower_bound, upper_bound, is_log1p) %}
    {#- The prepared value of one feature: a missing value imputed, then winsorized into
        [lower_bound, upper_bound], then ln(1 + x) when is_log1p (a SQL boolean) is true. -#}
    {%- set clipped -%}
        least(greatest(coalesce({{ value }}, {{ impute_value }}), {{ lower_bound }}), {{ upper_bound }})
    {%- endset -%}
    case when {{ is_log1p }} then ln(1 + greatest({{ clipped }}, 0)) else {{ clipped }} end
{%- endmacro %}


{% macro categorical_value(value) %}
    {#- A categorical feature's value as its level text: booleans read 'true' / 'false', a
        missing value is the level 'missing' (custseg.clustering learns the levels from these). -#}
    coalesce(cast({{ value }} as {{ dbt.type_string() }}), 'missing')
{%- endmacro %}


{% macro prepare_features(features_relation, id_column='customer_id') %}
    {#-
        A subquery: id_column plus every numeric feature of features_relation, prepared with the
        bounds int_feature_bounds learned from this build's customers (what a fit now would
        learn), and every categorical feature K-means is asked to cluster on as its level text.
    -#}
    {%- set features = numeric_feature_columns() -%}
    {%- set categorical = categorical_segmentation_features() -%}
    {%- set log_features = log_transform_features() -%}
    (
        with bounds as (
            select
                {%- for feature in features %}
                max(case when feature = '{{ feature }}' then impute_value end)
                    as {{ feature }}__impute,
                max(case when feature = '{{ feature }}' then lower_bound end)
                    as {{ feature }}__lower,
                max(case when feature = '{{ feature }}' then upper_bound end)
                    as {{ feature }}__upper{{ "," if not loop.last }}
                {%- endfor %}
            from {{ ref('int_feature_bounds') }}
        )

        select
            features_to_prepare.{{ id_column }},
            {%- for feature in features %}
            {{ prepared_value(
                'features_to_prepare.' ~ feature, 'bounds.' ~ feature ~ '__impute',
                'bounds.' ~ feature ~ '__lower', 'bounds.' ~ feature ~ '__upper',
                'true' if feature in log_features else 'false') }}
                as {{ feature }}{{ "," if not (loop.last and not categorical) }}
            {%- endfor %}
            {%- for feature in categorical %}
            {{ categorical_value('features_to_prepare.' ~ feature) }}
                as {{ feature }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ features_relation }} as features_to_prepare
        cross join bounds
    )
{% endmacro %}


{% macro feature_name_rows(features) %}
    {#-
        One row per name in `features` (column `feature`): what a relation with a column per
        feature is cross joined with to get a row per feature (feature_value_of), so the
        relation is read once however many features there are. A union of one select per
        feature (a join each) read it a dozen times.
    -#}
    {%- for feature in features %}
        select '{{ feature }}' as feature
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
{% endmacro %}


{% macro feature_value_of(name_column, features, column_prefix) %}
    {#-
        The value, as double, of the feature `name_column` names (a row of feature_name_rows),
        read from its column `column_prefix` ~ feature (e.g. 'segmented.').
    -#}
    case {{ name_column }}
        {%- for feature in features %}
            when '{{ feature }}' then cast({{ column_prefix }}{{ feature }} as double)
        {%- endfor %}
    end
{%- endmacro %}
