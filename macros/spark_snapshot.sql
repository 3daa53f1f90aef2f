{#-
    dbt snapshots on Spark with plain Parquet tables. dbt-spark's snapshot materialization
    merges, so it accepts only Delta, Iceberg or Hudi tables, whose jars come from Maven. This
    one (a project materialization overrides the adapter's) keeps dbt's staging table and
    strategies but replaces the merge by a rewrite: the new snapshot goes to a Parquet table
    beside the target, which then overwrites the target (Spark does not overwrite a table it
    reads in the same statement). Delta, Iceberg and Hudi still go to dbt-spark's merge.
-#}
{% materialization snapshot, adapter='spark' %}
    {%- set file_format = config.get('file_format') or 'parquet' -%}
    {%- if file_format in ['delta', 'iceberg', 'hudi'] -%}
        {{ return(dbt.materialization_snapshot_spark()) }}
    {%- endif -%}

    {%- set grant_config = config.get('grants') -%}
    {%- set target_relation_exists, target_relation = get_or_create_relation(
        database=none, schema=model.schema, identifier=model.get('alias', model.get('name')),
        type='table') -%}
    {%- if not target_relation.is_table -%}
        {% do exceptions.relation_wrong_type(target_relation, 'table') %}
    {%- endif -%}
    {%- if not adapter.check_schema_exists(model.database, model.schema) -%}
        {% do create_schema(model.schema) %}
    {%- endif -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set strategy = strategy_dispatch(config.get('strategy'))(
        model, 'snapshotted_data', 'source_data', model['config'], target_relation_exists) -%}

    {%- if not target_relation_exists -%}
        {%- set final_sql = create_table_as(
            False, target_relation, build_snapshot_table(strategy, model['compiled_code'])) -%}
    {%- else -%}
        {%- set columns = config.get('snapshot_table_column_names')
            or get_snapshot_table_column_names() -%}
        {{ adapter.assert_valid_snapshot_target_given_strategy(target_relation, columns, strategy) }}
        {#- A view named <snapshot>__dbt_tmp: dbt's snapshot_staging_table, as dbt-spark does. -#}
        {%- set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) -%}
        {%- set internal = ['dbt_change_type', 'dbt_unique_key'] -%}
        {%- set missing_columns = adapter.get_missing_columns(staging_table, target_relation)
            | rejectattr('name', 'in', internal) | list -%}
        {%- set target_columns = adapter.get_columns_in_relation(target_relation)
            | map(attribute='name') | list + missing_columns | map(attribute='name') | list -%}
        {% do create_columns(target_relation, missing_columns) %}
        {%- set source_columns = adapter.get_columns_in_relation(staging_table)
            | map(attribute='name') | map('lower') | list -%}
        {%- set rewritten = target_relation.incorporate(
            path={'identifier': target_relation.identifier ~ '__dbt_new'}) -%}
        {% do adapter.drop_relation(rewritten) %}
        {% call statement('build_snapshot_rewrite') %}
            {{ create_table_as(False, rewritten, spark_snapshot_rewrite_sql(
                target_relation, staging_table, target_columns, source_columns, columns)) }}
        {% endcall %}
        {%- set final_sql -%}
            insert overwrite table {{ target_relation }} select * from {{ rewritten }}
        {%- endset -%}
    {%- endif -%}

    {% call statement('main') %}
        {{ final_sql }}
    {% endcall %}

    {% do apply_grants(target_relation, grant_config,
        should_revoke(target_relation_exists, full_refresh_mode=False)) %}
    {% do persist_docs(target_relation, model) %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {%- if staging_table is defined -%}
        {% do adapter.drop_relation(rewritten) %}
        {% do post_snapshot(staging_table) %}
    {%- endif -%}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{% macro spark_snapshot_rewrite_sql(target, staging, target_columns, source_columns, columns) %}
    {#-
        The snapshot after dbt's merge (snapshot_merge_sql): every current version that the
        staging table updates or deletes gets its dbt_valid_to; the staging inserts are added.
    -#}
    {%- set current_valid_to = config.get('dbt_valid_to_current') -%}
    select
        {%- for column in target_columns %}
            {%- if column | lower == columns.dbt_valid_to | lower %}
        coalesce(closing.valid_to, snapshotted.{{ adapter.quote(column) }})
            {%- else %}
        snapshotted.{{ adapter.quote(column) }}
            {%- endif %} as {{ adapter.quote(column) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ target }} as snapshotted
    left join (
        select
            {{ columns.dbt_scd_id }} as scd_id,
            {{ columns.dbt_valid_to }} as valid_to
        from {{ staging }}
        where dbt_change_type in ('update', 'delete')
    ) as closing
        on
            snapshotted.{{ columns.dbt_scd_id }} = closing.scd_id
            and (snapshotted.{{ columns.dbt_valid_to }} is null
                {%- if current_valid_to %}
                or snapshotted.{{ columns.dbt_valid_to }} = {{ current_valid_to }}
                {%- endif %})
    union all
    select
        {%- for column in target_columns %}
            {%- if column | lower in source_columns %}
        inserted.{{ adapter.quote(column) }}
            {%- else %}
        null
            {%- endif %} as {{ adapter.quote(column) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ staging }} as inserted
    left anti join {{ target }} as snapshotted
        on inserted.{{ columns.dbt_scd_id }} = snapshotted.{{ columns.dbt_scd_id }}
    where inserted.dbt_change_type = 'insert'
{% endmacro %}
