{#-
    predict_segment(f) and predict_segment_detail(f): the latest fit as two DuckDB SQL macros,
    left in the build file (by a post-hook of dim_customer_segments) and in the serving file
    (by publish_serving), in the marts' schema. `f` is a row of int_customer_features (`select
    customer_id, main_marts.predict_segment(f) from main_intermediate.int_customer_features as
    f`), of dim_customer_segments, or a struct literal with the fields the fit uses. They
    render segment_score (macros/assign_segment.sql), the rule the build scores with, with the
    fit's parameters as literals: no table, no Python, a read-only connection is enough, and
    the answer is the build's to the last bit. README, "predict_segment()".
-#}

{% macro model_relation(name) %}
    {#- The relation of the project's model `name` (from the graph, so hooks can use it). -#}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
        and node.package_name == project_name and node.name == name -%}
        {{- return(api.Relation.create(database=node.database, schema=node.schema,
                                       identifier=node.alias)) -}}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("model_relation: no model " ~ name) }}
{% endmacro %}


{% macro literal_scoring() %}
    {#-
        The latest fit read back (int_segment_scoring_parameters) as literals for
        segment_score: the numeric features it used (catalogue order), its levels, the
        parameters (exact double text: a value cast to text and back is the same double), the
        centroid list, the segment names (dim_segments, overrides included) and the fit's run
        number.
    -#}
    {%- set text = dbt.type_string() -%}
    {%- set rows = run_query(
        "select parameter_type, segment_id, feature, level, level_order, transform, "
        ~ "cast(impute_value as " ~ text ~ "), cast(lower_bound as " ~ text ~ "), "
        ~ "cast(upper_bound as " ~ text ~ "), cast(scaler_center as " ~ text ~ "), "
        ~ "cast(scaler_scale as " ~ text ~ "), cast(centroid_scaled as " ~ text ~ "), "
        ~ "cast(outlier_distance as " ~ text ~ ") from "
        ~ model_relation('int_segment_scoring_parameters')
        ~ " order by parameter_type, segment_id, level_order, feature").rows -%}
    {%- set fit_features = {} -%}
    {%- set level_rows = [] -%}
    {%- set segments = [] -%}
    {%- set centroid_values = {} -%}
    {%- for row in rows -%}
        {%- if row[0] == 'feature' -%}
            {%- do fit_features.update({row[2]: row}) -%}
        {%- elif row[0] == 'level' -%}
            {%- do level_rows.append(row) -%}
        {%- elif row[0] == 'segment' -%}
            {%- do segments.append(row) -%}
        {%- else -%}
            {%- do centroid_values.update({(row[1] | int, row[2] if row[3] is none
                                            else 'level__' ~ row[4]): row[11]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set features = [] -%}
    {%- set parameters = {} -%}
    {%- for feature in numeric_feature_columns() if feature in fit_features -%}
        {%- set row = fit_features[feature] -%}
        {%- do features.append(feature) -%}
        {%- for part, index in [('impute', 6), ('lower', 7), ('upper', 8), ('center', 9), ('scale', 10)] -%}
            {%- do parameters.update({feature ~ '__' ~ part:
                'null' if row[index] is none else sql_double(row[index])}) -%}
        {%- endfor -%}
        {%- do parameters.update({feature ~ '__log1p': 'true' if row[5] == 'log1p' else 'false'}) -%}
    {%- endfor -%}
    {%- set levels = [] -%}
    {%- for row in level_rows | sort(attribute=4) -%}
        {%- do levels.append((row[2], row[3], row[3] == 'other')) -%}
        {%- do parameters.update({'level__' ~ loop.index ~ '__center': sql_double(row[9]),
                                  'level__' ~ loop.index ~ '__scale': sql_double(row[10])}) -%}
    {%- endfor -%}
    {%- set centroids = [] -%}
    {%- for row in segments | sort(attribute=1) -%}
        {%- set segment = row[1] | int -%}
        {%- set fields = [('segment_id', segment | string),
                          ('outlier_distance', 'null' if row[12] is none else sql_double(row[12]))] -%}
        {%- for feature in features -%}
            {%- do fields.append((feature, sql_double(centroid_values[(segment, feature)]))) -%}
        {%- endfor -%}
        {%- for level in levels -%}
            {%- do fields.append(('level__' ~ loop.index,
                                  sql_double(centroid_values[(segment, 'level__' ~ loop.index)]))) -%}
        {%- endfor -%}
        {%- do centroids.append(sql_struct(fields)) -%}
    {%- endfor -%}
    {%- set names = {} -%}
    {%- for row in run_query("select segment_id, segment_name from "
        ~ model_relation('dim_segments')).rows -%}
        {%- do names.update({row[0] | int: row[1]}) -%}
    {%- endfor -%}
    {%- set fit_run_number = run_query(
        "select run_number from " ~ model_relation('int_segment_fit')).rows[0][0] -%}
    {{ return({'features': features, 'levels': levels, 'parameters': parameters,
               'centroids': sql_array(centroids), 'names': names,
               'fit_run_number': fit_run_number}) }}
{% endmacro %}


{% macro predict_segment_macros(schema) %}
    {#- The statements that create (or replace) both macros in `schema` (database.schema or
        schema) from the latest fit. -#}
    {%- set fit = literal_scoring() -%}
    {%- set score = segment_score('f', fit.parameters, fit.features, fit.levels, fit.centroids) -%}
    {%- set segment_id = sql_field('custseg_result', 'segment_id') -%}
    {%- set name -%}
        case {{ segment_id }}
        {%- for segment, segment_name in fit.names.items() | sort %}
            when {{ segment }} then {{ sql_string(segment_name) }}
        {%- endfor %}
        end
    {%- endset -%}
    {%- set detail = sql_struct([
        ('segment_id', segment_id),
        ('segment_name', name),
        ('distance_to_centroid', sql_field('custseg_result', 'distance_to_centroid')),
        ('second_segment_id', sql_field('custseg_result', 'second_segment_id')),
        ('margin_to_second', sql_field('custseg_result', 'margin_to_second')),
        ('is_outlier', sql_field('custseg_result', 'is_outlier')),
        ('outlier_score', sql_field('custseg_result', 'outlier_score')),
        ('fit_run_number', fit.fit_run_number | int | string)]) -%}
    {{ return([
        'create or replace macro ' ~ schema ~ '.predict_segment(f) as '
            ~ sql_field(score, 'segment_id'),
        'create or replace macro ' ~ schema ~ '.predict_segment_detail(f) as '
            ~ sql_let(score, 'custseg_result', detail),
    ]) }}
{% endmacro %}


{% macro create_predict_segment_macros() %}
    {#- post-hook of dim_customer_segments: the macros in the build file, beside the marts. -#}
    {%- if execute -%}
        {%- do adapter.dispatch('create_predict_segment_macros', 'custseg')() -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{% macro default__create_predict_segment_macros() %}
    {{ log('predict_segment: DuckDB only (a SQL macro); on ' ~ target.type ~ ' score with '
           ~ 'assign_segment or read dim_customer_segments.', info=False) }}
{% endmacro %}

{% macro duckdb__create_predict_segment_macros() %}
    {%- for statement in predict_segment_macros(this.schema) -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
{% endmacro %}
