{% macro fit_levels() %}
    {#-
        The latest fit's categorical levels in level order, as (feature, level, is_other)
        tuples, read when the model runs: each level is a column of the fit, so scoring gives
        it its own term and distances stay one sum in a fixed order. Empty while parsing, in
        unit tests and for a numeric-only fit. is_other marks the group of rare values: a
        value that is none of the feature's other levels belongs to it.
    -#}
    {%- set relation = ref('int_segment_fit_levels') -%}
    {%- set levels = [] -%}
    {%- if execute and model.resource_type != 'unit_test' and load_relation(relation) is not none -%}
        {%- set result = run_query(
            "select feature, level from " ~ relation ~ " order by level_order") -%}
        {%- for row in result.rows -%}
            {%- do levels.append((row[0], row[1], row[1] == 'other')) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(levels) }}
{% endmacro %}


{% macro level_indicator(value, feature, level, is_other, levels) %}
    {#- 1 when the prepared value of `feature` is `level` (for the other group: none of the
        feature's named levels), else 0: the indicator column the fit one-hot encoded. -#}
    {%- if is_other -%}
        {%- set named = [] -%}
        {%- for other_feature, other_level, other_is_other in levels
            if other_feature == feature and not other_is_other -%}
            {%- do named.append(sql_string(other_level)) -%}
        {%- endfor -%}
        case when {{ value }} not in ({{ named | join(', ') }}) then cast(1 as double)
            else cast(0 as double) end
    {%- else -%}
        case when {{ value }} = {{ sql_string(level) }} then cast(1 as double)
            else cast(0 as double) end
    {%- endif -%}
{% endmacro %}


{% macro scale_features(features_relation, id_column='customer_id') %}
    {#-
        A subquery: id_column plus every numeric feature of features_relation prepared as the
        fit did (prepare_features) and scaled with the stored scaler (null for features the fit
        did not use), then one column level__N per level of a categorical feature the fit
        used (fit_levels, N = level_order): the level's indicator centered on its share and
        divided by the feature's block scale. What assign_segment measures distances in, and
        what the customer map mart draws.
    -#}
    {%- set features = numeric_feature_columns() -%}
    {%- set levels = fit_levels() -%}
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
        {%- if levels %}

        fit_levels as (
            select * from {{ ref('int_segment_fit_levels') }}
        ),

        level_scaler as (
            select
                {%- for level in levels %}
                max(case when level_order = {{ loop.index }} then scaler_center end)
                    as level__{{ loop.index }}__center,
                max(case when level_order = {{ loop.index }} then scaler_scale end)
                    as level__{{ loop.index }}__scale{{ "," if not loop.last }}
                {%- endfor %}
            from fit_levels
        ),
        {%- endif %}

        scaled as (
            select
                prepared.{{ id_column }},
                {%- for feature in features %}
                (prepared.{{ feature }} - scaler.{{ feature }}__center) / scaler.{{ feature }}__scale
                    as {{ feature }}{{ "," if not (loop.last and not levels) }}
                {%- endfor %}
                {%- for feature, level, is_other in levels %}
                ({{ level_indicator('prepared.' ~ feature, feature, level, is_other, levels) }}
                - level_scaler.level__{{ loop.index }}__center)
                / level_scaler.level__{{ loop.index }}__scale
                    as level__{{ loop.index }}{{ "," if not loop.last }}
                {%- endfor %}
            from prepared
            cross join scaler
            {%- if levels %}
            cross join level_scaler
            {%- endif %}
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
        use add 0), then the categorical levels in level order, so they are bit-for-bit the
        same on every run.
    -#}
    {%- set features = numeric_feature_columns() -%}
    {%- set levels = fit_levels() -%}
    {#- Referenced whatever the fit, so that it is built before scoring. -#}
    {%- set level_centroids_relation = ref('int_segment_fit_level_centroids') -%}
    (
        with scaled as (
            select * from {{ scale_features(features_relation, id_column) }}
        ),

        fit_centroids as (
            select * from {{ ref('int_segment_fit_centroids') }}
        ),

        numeric_centroids as (
            select
                segment_id,
                {%- for feature in features %}
                max(case when feature = '{{ feature }}' then centroid_scaled end)
                    as {{ feature }}__centroid{{ "," if not loop.last }}
                {%- endfor %}
            from fit_centroids
            group by segment_id
        ),
        {%- if levels %}

        fit_level_centroids as (
            select * from {{ level_centroids_relation }}
        ),

        level_centroids as (
            select
                segment_id,
                {%- for feature, level, is_other in levels %}
                max(
                    case
                        when feature = {{ sql_string(feature) }} and level = {{ sql_string(level) }}
                            then centroid_scaled
                    end
                ) as level__{{ loop.index }}__centroid{{ "," if not loop.last }}
                {%- endfor %}
            from fit_level_centroids
            group by segment_id
        ),

        {#- Every segment has level centroids; a fit on categorical features only has no
            numeric ones. #}
        centroids as (
            select
                level_centroids.*,
                {%- for feature in features %}
                numeric_centroids.{{ feature }}__centroid{{ "," if not loop.last }}
                {%- endfor %}
            from level_centroids
            left join numeric_centroids on level_centroids.segment_id = numeric_centroids.segment_id
        ),
        {%- else %}

        centroids as (
            select * from numeric_centroids
        ),
        {%- endif %}

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
                    {%- for level in levels %}
                    + (scaled.level__{{ loop.index }} - centroids.level__{{ loop.index }}__centroid)
                    * (scaled.level__{{ loop.index }} - centroids.level__{{ loop.index }}__centroid)
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
