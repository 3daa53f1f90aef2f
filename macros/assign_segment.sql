{#-
    Scoring customers against the latest fit, in SQL. One rule - prepare each feature with the
    fit's stored preparation (prepared_value), scale it with the fit's scaler, measure the
    Euclidean distance to every stored centroid and take the nearest (ties: the lower segment
    id) - written once, in segment_score, and rendered twice:

    - by assign_segment, which reads the fit's parameters (int_segment_scoring_parameters) as
      columns of one row (scoring_parameter_row) and scores a relation: int_customer_segments,
      the analyses, your own tables;
    - by predict_segment_macros, with the same parameters as literals: the DuckDB macros
      predict_segment(f) and predict_segment_detail(f) the build leaves in the database file
      and the serving file, which need no table and no Python.

    The same expression over the same doubles: both give the same segment and the same
    distance to the last bit. Nothing here reads the current data's statistics.
-#}

{% macro fit_levels() %}
    {#-
        The latest fit's categorical levels in level order, as (feature, level, is_other)
        tuples, read when the model runs: each level is a column of the fit, so scoring gives
        it its own term and distances stay one sum in a fixed order. Empty while parsing, in
        unit tests and for a numeric-only fit. is_other marks the group of rare values: a
        value that is none of the feature's other levels belongs to it.
    -#}
    {%- set relation = ref('int_segment_scoring_parameters') -%}
    {%- set levels = [] -%}
    {%- if execute and model.resource_type != 'unit_test' and load_relation(relation) is not none -%}
        {%- set result = run_query(
            "select feature, level from " ~ relation
            ~ " where parameter_type = 'level' order by level_order") -%}
        {%- for row in result.rows -%}
            {%- do levels.append((row[0], row[1], row[1] == 'other')) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(levels) }}
{% endmacro %}


{% macro level_indicator(value, feature, level, is_other, levels) %}
    {#- 1 when the level text of `feature` is `level` (for the other group: none of the
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


{% macro scaled_features(row, parameters, features, levels) %}
    {#-
        A struct of one row's features as K-means saw them: each numeric feature of `features`
        prepared (prepared_value) and scaled, (x - center) / scale, then level__N for each
        categorical level (its indicator, centered on its share and divided by its block
        scale). `row` is a table alias or a struct with the raw feature fields;
        `parameters` maps <feature>__impute/__lower/__upper/__log1p/__center/__scale and
        level__N__center/__scale to SQL (columns or literals). A feature the fit did not use
        has null parameters and a null value.
    -#}
    {%- set fields = [] -%}
    {%- for feature in features -%}
        {%- set prepared = prepared_value(
            row ~ '.' ~ feature, parameters[feature ~ '__impute'],
            parameters[feature ~ '__lower'], parameters[feature ~ '__upper'],
            parameters[feature ~ '__log1p']) -%}
        {%- do fields.append((feature, '(' ~ prepared ~ ' - ' ~ parameters[feature ~ '__center']
            ~ ') / ' ~ parameters[feature ~ '__scale'])) -%}
    {%- endfor -%}
    {%- for feature, level, is_other in levels -%}
        {%- set indicator = level_indicator(
            categorical_value(row ~ '.' ~ feature), feature, level, is_other, levels) -%}
        {%- do fields.append(('level__' ~ loop.index, '(' ~ indicator ~ ' - '
            ~ parameters['level__' ~ loop.index ~ '__center'] ~ ') / '
            ~ parameters['level__' ~ loop.index ~ '__scale'])) -%}
    {%- endfor -%}
    {{- return(sql_struct(fields)) -}}
{% endmacro %}


{% macro segment_score(row, parameters, features, levels, centroids) %}
    {#-
        The one scoring rule, as one expression over one row: a struct of segment_id (the
        nearest centroid; ties go to the lower segment id), distance_to_centroid,
        second_segment_id, margin_to_second (second-nearest distance minus nearest),
        outlier_score (distance over the segment's outlier distance at fit time) and
        is_outlier (beyond it; false for a segment without an outlier distance). `centroids` is a list of structs (segment_id,
        outlier_distance, one field per numeric feature of `features`, level__N), ascending by
        segment id. Distances are one sum in a fixed order - the numeric features in catalogue
        order (a feature the fit did not use adds 0), then the levels in level order - so they
        are the same to the last bit wherever it is rendered.
    -#}
    {%- set terms = [] -%}
    {%- for feature in features -%}
        {%- set difference = '(custseg_scaled.' ~ feature ~ ' - custseg_centroid.' ~ feature ~ ')' -%}
        {%- do terms.append('coalesce(' ~ difference ~ ' * ' ~ difference ~ ', 0)') -%}
    {%- endfor -%}
    {%- for level in levels -%}
        {%- set difference = '(custseg_scaled.level__' ~ loop.index ~ ' - custseg_centroid.level__'
            ~ loop.index ~ ')' -%}
        {%- do terms.append(difference ~ ' * ' ~ difference) -%}
    {%- endfor -%}
    {%- set distances = sql_transform(centroids, 'custseg_centroid', sql_struct([
        ('distance', 'sqrt(' ~ terms | join(' + ') ~ ')'),
        ('segment_id', 'custseg_centroid.segment_id'),
        ('outlier_distance', 'custseg_centroid.outlier_distance')])) -%}
    {%- set nearest = sql_item('custseg_ranked', 1) -%}
    {%- set second = sql_item('custseg_ranked', 2) -%}
    {%- set distance = sql_field(nearest, 'distance') -%}
    {%- set outlier_distance = sql_field(nearest, 'outlier_distance') -%}
    {%- set result = sql_struct([
        ('segment_id', sql_field(nearest, 'segment_id')),
        ('distance_to_centroid', distance),
        ('second_segment_id', sql_field(second, 'segment_id')),
        ('margin_to_second', sql_field(second, 'distance') ~ ' - ' ~ distance),
        ('outlier_score', 'case when ' ~ outlier_distance ~ ' > 0 then ' ~ distance ~ ' / '
            ~ outlier_distance ~ ' end'),
        ('is_outlier', 'coalesce(' ~ distance ~ ' > ' ~ outlier_distance ~ ', false)')]) -%}
    {{- return(sql_let(scaled_features(row, parameters, features, levels), 'custseg_scaled',
        sql_let(sql_sort(distances), 'custseg_ranked', result))) -}}
{% endmacro %}


{% macro scoring_parameter_row() %}
    {#-
        The latest fit's parameters (int_segment_scoring_parameters) as one row, a subquery:
        per numeric feature of the catalogue <feature>__impute,
        __lower, __upper (raw units), __log1p, __center and __scale (null when the fit did not
        use it); per categorical level level__N__center and __scale (N = level_order); and
        `centroids`, the list of the fit's live segments (segment_id, outlier_distance, the
        centroid on each numeric feature and level) by segment id.
    -#}
    {%- set features = numeric_feature_columns() -%}
    {%- set levels = fit_levels() -%}
    (
        with parameters as (
            select * from {{ ref('int_segment_scoring_parameters') }}
        ),

        preparation as (
            {%- set columns = [] -%}
            {%- for feature in features -%}
                {%- set this_feature = "parameter_type = 'feature' and feature = '" ~ feature ~ "'" -%}
                {%- for part, column in [('impute', 'impute_value'), ('lower', 'lower_bound'),
                                         ('upper', 'upper_bound'), ('center', 'scaler_center'),
                                         ('scale', 'scaler_scale')] -%}
                    {%- do columns.append('max(case when ' ~ this_feature ~ ' then ' ~ column
                        ~ ' end) as ' ~ feature ~ '__' ~ part) -%}
                {%- endfor -%}
                {%- do columns.append('coalesce(max(case when ' ~ this_feature
                    ~ " and transform = 'log1p' then 1 end) = 1, false) as " ~ feature ~ '__log1p') -%}
            {%- endfor -%}
            {%- for level in levels -%}
                {%- set this_level = "parameter_type = 'level' and level_order = " ~ loop.index -%}
                {%- do columns.append('max(case when ' ~ this_level ~ ' then scaler_center end) as level__'
                    ~ loop.index ~ '__center') -%}
                {%- do columns.append('max(case when ' ~ this_level ~ ' then scaler_scale end) as level__'
                    ~ loop.index ~ '__scale') -%}
            {%- endfor %}
            select
                {{ columns | join(',\n                ') }}
            from parameters
        ),

        centroid_rows as (
            select
                segment_id,
                max(case when parameter_type = 'segment' then outlier_distance end) as outlier_distance
                {%- for feature in features %},
                max(case when parameter_type = 'centroid' and level is null and feature = '{{ feature }}' then centroid_scaled end)
                    as {{ feature }}
                {%- endfor %}
                {%- for level in levels %},
                max(case when parameter_type = 'centroid' and level_order = {{ loop.index }} then centroid_scaled end)
                    as level__{{ loop.index }}
                {%- endfor %}
            from parameters
            where parameter_type in ('segment', 'centroid')
            group by segment_id
        ),

        centroid_list as (
            {%- set fields = [('segment_id', 'segment_id'), ('outlier_distance', 'outlier_distance')] -%}
            {%- for feature in features -%}
                {%- do fields.append((feature, feature)) -%}
            {%- endfor -%}
            {%- for level in levels -%}
                {%- do fields.append(('level__' ~ loop.index, 'level__' ~ loop.index)) -%}
            {%- endfor %}
            select {{ ordered_list_agg(sql_struct(fields), 'segment_id') }} as centroids
            from centroid_rows
        ),

        parameter_row as (
            select
                preparation.*,
                centroid_list.centroids
            from preparation
            cross join centroid_list
        )

        select * from parameter_row
    )
{% endmacro %}


{% macro column_parameters(relation_alias) %}
    {#- scaled_features' parameter names mapped to columns of scoring_parameter_row. -#}
    {%- set parameters = {} -%}
    {%- for feature in numeric_feature_columns() -%}
        {%- for part in ('impute', 'lower', 'upper', 'log1p', 'center', 'scale') -%}
            {%- do parameters.update({feature ~ '__' ~ part: relation_alias ~ '.' ~ feature ~ '__' ~ part}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for level in fit_levels() -%}
        {%- set position = loop.index -%}
        {%- for part in ('center', 'scale') -%}
            {%- set name = 'level__' ~ position ~ '__' ~ part -%}
            {%- do parameters.update({name: relation_alias ~ '.' ~ name}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(parameters) }}
{% endmacro %}


{% macro assign_segment(features_relation, id_column='customer_id') %}
    {#-
        Scores every row of features_relation (any relation with id_column and the feature
        columns of int_customer_features) against the latest fit in pure SQL (segment_score,
        the fit's parameters from scoring_parameter_row). Returns a subquery with id_column,
        segment_id, distance_to_centroid, second_segment_id, margin_to_second (null with one
        segment), outlier_score and is_outlier.
    -#}
    {%- set features = numeric_feature_columns() -%}
    {%- set levels = fit_levels() -%}
    (
        with custseg_parameters as (
            select * from {{ scoring_parameter_row() }} as parameter_row
        ),

        scored as (
            select
                features_to_score.{{ id_column }},
                {{ segment_score('features_to_score', column_parameters('custseg_parameters'),
                                 features, levels, 'custseg_parameters.centroids') }}
                    as segment_score
            from {{ features_relation }} as features_to_score
            cross join custseg_parameters
        ),

        nearest as (
            select
                {{ id_column }},
                {{ sql_field('segment_score', 'segment_id') }} as segment_id,
                {{ sql_field('segment_score', 'distance_to_centroid') }} as distance_to_centroid,
                {{ sql_field('segment_score', 'second_segment_id') }} as second_segment_id,
                {{ sql_field('segment_score', 'margin_to_second') }} as margin_to_second,
                {{ sql_field('segment_score', 'outlier_score') }} as outlier_score,
                {{ sql_field('segment_score', 'is_outlier') }} as is_outlier
            from scored
        )

        select * from nearest
    )
{% endmacro %}


{% macro scale_features(features_relation, id_column='customer_id') %}
    {#-
        A subquery: id_column plus every numeric feature of features_relation as K-means saw it
        (scaled_features: prepared with the fit's preparation, scaled with its scaler; null for
        features the fit did not use), then level__N per categorical level. What the customer
        map and the outlier mart show.
    -#}
    {%- set features = numeric_feature_columns() -%}
    {%- set levels = fit_levels() -%}
    (
        with custseg_parameters as (
            select * from {{ scoring_parameter_row() }} as parameter_row
        ),

        scaled as (
            select
                features_to_scale.{{ id_column }},
                {{ scaled_features('features_to_scale', column_parameters('custseg_parameters'),
                                   features, levels) }} as scaled_values
            from {{ features_relation }} as features_to_scale
            cross join custseg_parameters
        ),

        unpacked as (
            select
                {{ id_column }},
                {%- for feature in features %}
                {{ sql_field('scaled_values', feature) }} as {{ feature }}{{ "," if not (loop.last and not levels) }}
                {%- endfor %}
                {%- for level in levels %}
                {{ sql_field('scaled_values', 'level__' ~ loop.index) }} as level__{{ loop.index }}{{ "," if not loop.last }}
                {%- endfor %}
            from scaled
        )

        select * from unpacked
    )
{% endmacro %}
