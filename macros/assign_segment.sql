{% macro assign_segment(features_relation, id_column='customer_id') %}
    {#-
        Scores every row of features_relation (any relation with id_column and the feature
        columns of int_customer_features) against the fitted segmentation in pure SQL:
        prepares features as the fit did (prepare_features), scales them with the stored
        scaler, and picks the nearest stored centroid (Euclidean, in scaled units). Ties go to
        the lower segment id. Returns a subquery with id_column, segment_id,
        distance_to_centroid, second_segment_id and margin_to_second (second-nearest distance
        minus nearest; null with one segment).
    -#}
    {%- set features = numeric_feature_columns() -%}
    (
        with prepared as (
            select * from {{ prepare_features(features_relation, id_column) }}
        ),

        fitted as (
            select * from {{ ref('segment_model') }}
        ),

        scaler as (
            select
                feature,
                max(case when metric = 'center' then value end) as center,
                max(case when metric = 'scale' then value end) as scale
            from fitted
            where section = 'scaler'
            group by 1
        ),

        centroids as (
            select
                segment_id,
                feature,
                value as centroid_value
            from fitted
            where section = 'centroid' and metric = 'scaled'
        ),

        long_values as (
            {%- for feature in features %}
            select
                {{ id_column }},
                '{{ feature }}' as feature,
                cast({{ feature }} as double) as feature_value
            from prepared
            {%- if not loop.last %}
            union all
            {%- endif %}
            {%- endfor %}
        ),

        scaled as (
            select
                long_values.{{ id_column }},
                long_values.feature,
                (long_values.feature_value - scaler.center) / scaler.scale as scaled_value
            from long_values
            inner join scaler on long_values.feature = scaler.feature
        ),

        distances as (
            select
                scaled.{{ id_column }},
                centroids.segment_id,
                sqrt(sum(
                    (scaled.scaled_value - centroids.centroid_value)
                    * (scaled.scaled_value - centroids.centroid_value)
                )) as distance
            from scaled
            inner join centroids on scaled.feature = centroids.feature
            group by 1, 2
        ),

        ranked as (
            select
                {{ id_column }},
                segment_id,
                distance,
                row_number() over (
                    partition by {{ id_column }} order by distance, segment_id
                ) as distance_rank
            from distances
        ),

        nearest_two as (
            select
                {{ id_column }},
                cast(max(case when distance_rank = 1 then segment_id end) as integer) as segment_id,
                max(case when distance_rank = 1 then distance end) as distance_to_centroid,
                cast(max(case when distance_rank = 2 then segment_id end) as integer)
                    as second_segment_id,
                max(case when distance_rank = 2 then distance end)
                - max(case when distance_rank = 1 then distance end) as margin_to_second
            from ranked
            where distance_rank <= 2
            group by 1
        )

        select * from nearest_two
    )
{% endmacro %}
