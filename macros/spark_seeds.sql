{% macro spark__load_csv_rows(model, agate_table) %}
    {#-
        Seeds on Spark (dispatch order in dbt_project.yml puts this before dbt-spark's own):
        dbt-spark's session method pastes bindings into the SQL unescaped, so a quote breaks
        the insert (rfm_segments has "Can't Lose Them") and a null cell arrives as the text
        'None'. Here every value is a literal, escaped; null stays null.
    -#}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(
            col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- if value is none -%}
                        cast(null as {{ types[loop.index0] }})
                    {%- else -%}
                        cast('{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}'
                            as {{ types[loop.index0] }})
                    {%- endif -%}
                    {{- "," if not loop.last -}}
                {%- endfor -%}){{ "," if not loop.last }}
            {% endfor -%}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}
