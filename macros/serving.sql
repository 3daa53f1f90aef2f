{#-
    The serving database: what readers (BI tools, notebooks, segment-report) open. README, "BI
    tools connect read-only". The build file is the engineers' workspace; readers get a copy of
    the public marts, published after every successful build. The file side (paths, the atomic
    move) is custseg.serving, called through the DuckDB functions of custseg.duckdb_plugin.
-#}

{% macro served_models() %}
    {#-
        The models readers get: every enabled model of the project graph with access public
        (the marts; dbt_project.yml and the marts' YAML say so, no list here), by name.
    -#}
    {%- set served = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='name')
        if node.resource_type == 'model' and node.access == 'public'
        and node.config.materialized != 'ephemeral' -%}
        {%- do served.append(node) -%}
    {%- endfor -%}
    {{ return(served) }}
{% endmacro %}


{% macro serving_preflight() %}
    {#-
        on-run-start: what publishing will need, checked before the build spends its time - the
        salt of pseudonymize_customer_ids (custseg_id_salt() raises, saying what to set).
    -#}
    {%- if execute and flags.WHICH in ['build', 'run'] -%}
        {%- do adapter.dispatch('serving_preflight', 'custseg')() -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{% macro default__serving_preflight() %}
{% endmacro %}

{% macro duckdb__serving_preflight() %}
    {%- if var('pseudonymize_customer_ids') -%}
        {%- do run_query('select custseg_id_salt() as salt_is_set') -%}
    {%- endif -%}
{% endmacro %}


{% macro publish_serving(results=none) %}
    {#-
        on-run-end (with results) and `dbt run-operation publish_serving` (without): copies the
        served models into the serving file. From a hook, only after a `dbt build` or `dbt run`
        in which no node errored, failed or was skipped: a failed build leaves the serving file
        as it was, and readers keep the last good version.
    -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- if results is not none -%}
        {%- if flags.WHICH not in ['build', 'run'] -%}{{ return('') }}{%- endif -%}
        {%- set failed = [] -%}
        {%- set skipped = [] -%}
        {%- for result in results if result.status in ['error', 'fail', 'runtime error', 'skipped'] -%}
            {%- do (skipped if result.status == 'skipped' else failed).append(result.node.name) -%}
        {%- endfor -%}
        {%- if failed or skipped -%}
            {{ log('Serving file not published: ' ~ (failed | join(', ') or 'no node') ~ ' failed, '
                   ~ skipped | length ~ ' skipped; readers keep the last good build.', info=True) }}
            {{ return('') }}
        {%- endif -%}
    {%- endif -%}
    {%- do adapter.dispatch('publish_serving', 'custseg')(served_models()) -%}
    {{ return('') }}
{% endmacro %}

{% macro default__publish_serving(models) %}
    {{ log('Serving file: DuckDB only. On ' ~ target.type ~ ' readers query the marts where '
           ~ 'the build wrote them (' ~ (models | map(attribute='schema') | unique | join(', '))
           ~ '); pseudonymize_customer_ids applies when publishing to DuckDB.', info=True) }}
{% endmacro %}

{% macro duckdb__publish_serving(models) %}
    {#-
        ATTACH a scratch file beside the serving file, CREATE TABLE ... AS SELECT each served
        model under its own schema and name (main_marts.segment_profiles reads the same in
        both files), customer ids through customer_key, no column named like personal data;
        the predict_segment macros beside the marts; optionally the same tables as Parquet;
        DETACH (DuckDB checkpoints the file), then one rename puts it in place.
    -#}
    {%- if target.path == ':memory:' or target.path.startswith('md:') -%}
        {{ log('Serving file not published: the build database ' ~ target.path
               ~ ' is not a file.', info=True) }}
        {{ return('') }}
    {%- endif -%}
    {%- set started = modules.datetime.datetime.now() -%}
    {%- set relations = [] -%}
    {%- set missing = [] -%}
    {%- for node in models -%}
        {%- set relation = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if relation is none -%}
            {%- do missing.append(node.name) -%}
        {%- else -%}
            {%- do relations.append(relation) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ log('Serving file not published: not built yet: ' ~ missing | join(', '), info=True) }}
        {{ return('') }}
    {%- endif -%}
    {%- do duckdb__serving_preflight() -%}
    {%- set paths = run_query(
        'select custseg_serving_path(' ~ sql_string(target.path) ~ ') as serving_path, '
        ~ 'custseg_parquet_dir() as parquet_dir').rows[0] -%}
    {%- set serving_path, parquet_dir = paths[0], paths[1] -%}
    {%- set scratch = run_query('select custseg_scratch_path(' ~ sql_string(serving_path) ~ ', '
        ~ sql_string(invocation_id) ~ ', false)').rows[0][0] -%}
    {%- set scratch_dir = run_query('select custseg_scratch_path(' ~ sql_string(parquet_dir)
        ~ ', ' ~ sql_string(invocation_id) ~ ', true)').rows[0][0] if parquet_dir else none -%}
    {%- set database = 'custseg_serving_scratch' -%}
    {%- do run_query('attach ' ~ sql_string(scratch) ~ ' as ' ~ database) -%}
    {%- for schema in relations | map(attribute='schema') | unique -%}
        {%- do run_query('create schema ' ~ database ~ '.' ~ schema) -%}
    {%- endfor -%}
    {%- for relation in relations -%}
        {%- set served = database ~ '.' ~ relation.schema ~ '.' ~ relation.identifier -%}
        {%- do run_query('create table ' ~ served ~ ' as select '
            ~ served_columns(relation) ~ ' from ' ~ relation) -%}
        {%- if scratch_dir -%}
            {%- do run_query('copy ' ~ served ~ ' to '
                ~ sql_string(scratch_dir ~ '/' ~ relation.identifier ~ '.parquet')
                ~ ' (format parquet)') -%}
        {%- endif -%}
    {%- endfor -%}
    {#- The latest fit as the SQL macros predict_segment(f) and predict_segment_detail(f),
        beside the marts, as in the build file (macros/predict_segment.sql). -#}
    {%- for relation in relations if relation.identifier == 'dim_customer_segments' -%}
        {%- for statement in predict_segment_macros(database ~ '.' ~ relation.schema) -%}
            {%- do run_query(statement) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do adapter.commit() -%}
    {%- do run_query('detach ' ~ database) -%}
    {%- do run_query('select custseg_move_into_place(' ~ sql_string(scratch) ~ ', '
        ~ sql_string(serving_path) ~ ')') -%}
    {%- if scratch_dir -%}
        {%- do run_query('select custseg_move_into_place(' ~ sql_string(scratch_dir) ~ ', '
            ~ sql_string(parquet_dir) ~ ')') -%}
    {%- endif -%}
    {%- set seconds = (modules.datetime.datetime.now() - started).total_seconds() -%}
    {{ log('Serving file: published ' ~ relations | length ~ ' marts to ' ~ serving_path
           ~ (' and Parquet to ' ~ parquet_dir if parquet_dir else '')
           ~ (', customer ids pseudonymised' if var('pseudonymize_customer_ids') else '')
           ~ ' in ' ~ '%.1f' | format(seconds) ~ ' s', info=True) }}
{% endmacro %}


{% macro served_columns(relation) %}
    {#-
        The select list of a served copy of `relation`: its columns in order, a customer id
        column (is_customer_id_column) through customer_key, a column named like personal data
        (is_pii_column) left out.
    -#}
    {%- set columns = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- set quoted = adapter.quote(column.name) -%}
        {%- if is_pii_column(column.name) -%}
            {{ log('Serving file: ' ~ relation.identifier ~ '.' ~ column.name
                   ~ ' is named like personal data and is not published.', info=True) }}
        {%- elif is_customer_id_column(column.name) -%}
            {%- do columns.append(customer_key(quoted) ~ ' as ' ~ quoted) -%}
        {%- else -%}
            {%- do columns.append(quoted) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(columns | join(', ')) }}
{% endmacro %}


{% macro drop_scratch_relations() %}
    {#-
        on-run-end: scratch tables a build leaves behind. dbt-duckdb builds an incremental
        Python model's new rows (segment_model) into a table <model>__dbt_tmp<timestamp> in the
        default schema and, as it asked for a temporary one, never drops it; nothing reads them
        after the run.
    -#}
    {%- if execute -%}
        {%- do adapter.dispatch('drop_scratch_relations', 'custseg')() -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{% macro default__drop_scratch_relations() %}
{% endmacro %}

{% macro duckdb__drop_scratch_relations() %}
    {%- set scratch = run_query(
        "select table_schema, table_name from information_schema.tables "
        ~ "where table_catalog = current_database() and table_type = 'BASE TABLE' "
        ~ "and table_name like '%\\_\\_dbt\\_tmp%' escape '\\'") -%}
    {%- for row in scratch.rows -%}
        {%- do run_query('drop table if exists ' ~ adapter.quote(row[0]) ~ '.'
            ~ adapter.quote(row[1])) -%}
    {%- endfor -%}
{% endmacro %}
