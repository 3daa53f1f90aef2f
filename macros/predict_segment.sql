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
        The latest fit read back as literals for segment_score: the numeric features it used
        (catalogue order), its levels, the parameters (exact double text: a value cast to text
        and back is the same double), the centroid list, the segment names (dim_segments,
        overrides included) and the fit's run number.
    -#}
    {%- set text = dbt.type_string() -%}
    {%- set fit_features = {} -%}
    {%- for row in run_query(
        "select feature, transform, cast(impute_value as " ~ text ~ "), cast(lower_bound as "
        ~ text ~ "), cast(upper_bound as " ~ text ~ "), cast(scaler_center as " ~ text
        ~ "), cast(scaler_scale as " ~ text ~ ") from "
        ~ model_relation('int_segment_fit_features') ~ " where is_used").rows -%}
        {%- do fit_features.update({row[0]: row}) -%}
    {%- endfor -%}
    {%- set features = [] -%}
    {%- set parameters = {} -%}
    {%- for feature in numeric_feature_columns() if feature in fit_features -%}
        {%- set row = fit_features[feature] -%}
        {%- do features.append(feature) -%}
        {%- for part, index in [('impute', 2), ('lower', 3), ('upper', 4), ('center', 5), ('scale', 6)] -%}
            {%- do parameters.update({feature ~ '__' ~ part:
                'null' if row[index] is none else sql_double(row[index])}) -%}
        {%- endfor -%}
        {%- do parameters.update({feature ~ '__log1p': 'true' if row[1] == 'log1p' else 'false'}) -%}
    {%- endfor -%}
    {%- set levels = [] -%}
    {%- for row in run_query(
        "select feature, level, cast(scaler_center as " ~ text ~ "), cast(scaler_scale as "
        ~ text ~ ") from " ~ model_relation('int_segment_fit_levels')
        ~ " order by level_order").rows -%}
        {%- do levels.append((row[0], row[1], row[1] == 'other')) -%}
        {%- do parameters.update({'level__' ~ loop.index ~ '__center': sql_double(row[2]),
                                  'level__' ~ loop.index ~ '__scale': sql_double(row[3])}) -%}
    {%- endfor -%}
    {%- set centroid_values = {} -%}
    {%- for row in run_query(
        "select segment_id, feature, cast(centroid_scaled as " ~ text ~ ") from "
        ~ model_relation('int_segment_fit_centroids')).rows -%}
        {%- do centroid_values.update({(row[0], row[1]): row[2]}) -%}
    {%- endfor -%}
    {%- for row in run_query(
        "select segment_id, feature, level, cast(centroid_scaled as " ~ text ~ ") from "
        ~ model_relation('int_segment_fit_level_centroids')).rows -%}
        {%- do centroid_values.update({(row[0], row[1] ~ '=' ~ row[2]): row[3]}) -%}
    {%- endfor -%}
    {%- set centroids = [] -%}
    {%- for row in run_query(
        "select segment_id, cast(outlier_distance as " ~ text ~ ") from "
        ~ model_relation('int_segment_fit_segments')
        ~ " where status != 'retired' order by segment_id").rows -%}
        {%- set fields = [('segment_id', row[0] | string),
                          ('outlier_distance', 'null' if row[1] is none else sql_double(row[1]))] -%}
        {%- for feature in features -%}
            {%- do fields.append((feature, sql_double(centroid_values[(row[0], feature)]))) -%}
        {%- endfor -%}
        {%- for feature, level, is_other in levels -%}
            {%- do fields.append(('level__' ~ loop.index,
                                  sql_double(centroid_values[(row[0], feature ~ '=' ~ level)]))) -%}
        {%- endfor -%}
        {%- do centroids.append(sql_struct(fields)) -%}
    {%- endfor -%}
    {%- set names = {} -%}
    {%- for row in run_query("select segment_id, segment_name from "
        ~ model_relation('dim_segments')).rows -%}
        {%- do names.update({row[0]: row[1]}) -%}
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
        ('fit_run_number', fit.fit_run_number | string)]) -%}
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
