{#-
    How a feature value becomes a model input (impute, winsorize, log-transform, as the feature
    catalogue says) using the bounds that int_feature_bounds learned. Used by
    int_customer_features_prepared and assign_segment, so fitting and scoring prepare features
    the same way.
-#}

{% macro prepare_features(features_relation, id_column='customer_id') %}
    {#-
        A subquery: id_column plus every numeric feature of features_relation, prepared, and
        every categorical feature K-means is asked to cluster on as text, a missing value as
        the level 'missing' (booleans read 'true' / 'false'; custseg.clustering learns the
        levels from these values).
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
            {%- set clipped -%}
                least(greatest(
                    coalesce(features_to_prepare.{{ feature }}, bounds.{{ feature }}__impute),
                    bounds.{{ feature }}__lower), bounds.{{ feature }}__upper)
            {%- endset %}
            {% if feature in log_features -%}
                ln(1 + greatest({{ clipped }}, 0))
            {%- else -%}
                {{ clipped }}
            {%- endif %} as {{ feature }}{{ "," if not (loop.last and not categorical) }}
            {%- endfor %}
            {%- for feature in categorical %}
            coalesce(cast(features_to_prepare.{{ feature }} as {{ dbt.type_string() }}), 'missing')
                as {{ feature }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ features_relation }} as features_to_prepare
        cross join bounds
    )
{% endmacro %}
