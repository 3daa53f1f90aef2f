{% macro scale_features(features_relation, id_column='customer_id') %}
    {#-
        A subquery: id_column plus every numeric feature of features_relation prepared as the
        fit did (prepare_features) and scaled with the stored scaler (null for features the fit
        did not use). What assign_segment measures distances in, and what the customer map
        mart draws.
    -#}
    {%- set features = numeric_feature_columns() -%}
    (
        with prepared as (
            select * from {{ prepare_features(features_relation, id_column) }}
        ),

        fit_features as (
            select * from {{ ref('int_segment_fit_features') }}
        ),

        scaler as (
            select
                {%- for feature in features %}
                max(case when feature = '{{ feature }}' then scaler_center end)
                    as {{ feature }}__center,
                max(case when feature = '{{ feature }}' then scaler_scale end)
                    as {{ feature }}__scale{{ "," if not loop.last }}
                {%- endfor %}
            from fit_features
            where is_used
        ),

        scaled as (
            select
                prepared.{{ id_column }},
                {%- for feature in features %}
                (prepared.{{ feature }} - scaler.{{ feature }}__center) / scaler.{{ feature }}__scale
                    as {{ feature }}{{ "," if not loop.last }}
                {%- endfor %}
            from prepared
            cross join scaler
        )

        select * from scaled
    )
{% endmacro %}


{% macro assign_segment(features_relation, id_column='customer_id') %}
    {#-
        Scores every row of features_relation (any relation with id_column and the feature
        columns of int_customer_features) against the fitted segmentation in pure SQL:
        prepares and scales features as the fit did (scale_features) and picks the nearest
        stored centroid (Euclidean, in scaled units). Ties go to the lower segment id. Returns
        a subquery with id_column, segment_id, distance_to_centroid, second_segment_id and
        margin_to_second (second-nearest distance minus nearest; null with one segment).

        Distances are written out as one sum in a fixed feature order (features the fit did not
        use add 0), so they are bit-for-bit the same on every run.
    -#}
    {%- set features = numeric_feature_columns() -%}
    (
        with scaled as (
            select * from {{ scale_features(features_relation, id_column) }}
        ),

        fit_centroids as (
            select * from {{ ref('int_segment_fit_centroids') }}
        ),

        centroids as (
            select
                segment_id,
                {%- for feature in features %}
                max(case when feature = '{{ feature }}' then centroid_scaled end)
                    as {{ feature }}__centroid{{ "," if not loop.last }}
                {%- endfor %}
            from fit_centroids
            group by segment_id
        ),

        distances as (
            select
                scaled.{{ id_column }},
                centroids.segment_id,
                sqrt(
                    {%- for feature in features %}
                    {{ "+ " if not loop.first }}coalesce(
                        (scaled.{{ feature }} - centroids.{{ feature }}__centroid)
                        * (scaled.{{ feature }} - centroids.{{ feature }}__centroid), 0)
                    {%- endfor %}
                ) as distance
            from scaled
            cross join centroids
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
                max(case when distance_rank = 1 then segment_id end) as segment_id,
                max(case when distance_rank = 1 then distance end) as distance_to_centroid,
                max(case when distance_rank = 2 then segment_id end) as second_segment_id,
                max(case when distance_rank = 2 then distance end)
                - max(case when distance_rank = 1 then distance end) as margin_to_second
            from ranked
            where distance_rank <= 2
            group by {{ id_column }}
        )

        select * from nearest_two
    )
{% endmacro %}
