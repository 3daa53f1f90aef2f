{#- Engine-specific SQL lives here, behind adapter.dispatch: DuckDB first, Spark next. -#}

{% macro days_between(start_expr, end_expr) %}
    {{ return(adapter.dispatch('days_between', 'custseg')(start_expr, end_expr)) }}
{% endmacro %}

{% macro duckdb__days_between(start_expr, end_expr) -%}
    date_diff('day', cast({{ start_expr }} as date), cast({{ end_expr }} as date))
{%- endmacro %}

{% macro spark__days_between(start_expr, end_expr) -%}
    cast(datediff(cast({{ end_expr }} as date), cast({{ start_expr }} as date)) as bigint)
{%- endmacro %}


{% macro percentiles(expr, fractions) %}
    {#-
        An aggregate: the list of the interpolated percentiles of `expr` at each of `fractions`
        (numbers in 0..1), in their order; pick one with list_item. One aggregate for all of
        them keeps the values once: one per fraction keeps a copy each (at 10M customers the
        box-plot mart's five ran out of DuckDB's 8 GB).
    -#}
    {{ return(adapter.dispatch('percentiles', 'custseg')(expr, fractions)) }}
{% endmacro %}

{% macro duckdb__percentiles(expr, fractions) -%}
    quantile_cont({{ expr }}, [{{ fractions | join(', ') }}])
{%- endmacro %}

{% macro spark__percentiles(expr, fractions) -%}
    percentile({{ expr }}, array({{ fractions | join(', ') }}))
{%- endmacro %}


{% macro list_item(expr, position) %}
    {#- The item at `position` (1 = the first) of the list `expr`. -#}
    {{ return(adapter.dispatch('list_item', 'custseg')(expr, position)) }}
{% endmacro %}

{% macro duckdb__list_item(expr, position) -%}
    {{ expr }}[{{ position }}]
{%- endmacro %}

{% macro spark__list_item(expr, position) -%}
    element_at({{ expr }}, {{ position }})
{%- endmacro %}


{% macro matches_pattern(expr, pattern) %}
    {{ return(adapter.dispatch('matches_pattern', 'custseg')(expr, pattern)) }}
{% endmacro %}

{% macro duckdb__matches_pattern(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__matches_pattern(expr, pattern) -%}
    ({{ expr }} rlike '^{{ pattern }}$')
{%- endmacro %}


{% macro columns_to_json(columns, prefix='') %}
    {#-
        One JSON text holding `columns` (keys) read from `prefix ~ column`: what a rejects row
        keeps of its raw input.
    -#}
    {{ return(adapter.dispatch('columns_to_json', 'custseg')(columns, prefix)) }}
{% endmacro %}

{% macro duckdb__columns_to_json(columns, prefix) -%}
    cast(to_json(struct_pack({% for column in columns -%}
        {{ column }} := {{ prefix ~ column }}{{ ", " if not loop.last }}
    {%- endfor %})) as varchar)
{%- endmacro %}

{% macro spark__columns_to_json(columns, prefix) -%}
    to_json(named_struct({% for column in columns -%}
        '{{ column }}', {{ prefix ~ column }}{{ ", " if not loop.last }}
    {%- endfor %}))
{%- endmacro %}


{% macro catalog_columns(schemas) %}
    {#-
        A subquery of (table_name, column_name): every column of every relation in the schemas
        of the list `schemas` (the layers' schemas; one that does not exist yet has none).
    -#}
    {{ return(adapter.dispatch('catalog_columns', 'custseg')(schemas)) }}
{% endmacro %}

{% macro duckdb__catalog_columns(schemas) -%}
    {%- set quoted = [] -%}
    {%- for schema in schemas -%}
        {%- do quoted.append("'" ~ schema ~ "'") -%}
    {%- endfor -%}
    (
        select
            table_name,
            column_name
        from information_schema.columns
        where table_schema in ({{ quoted | join(', ') if quoted else 'null' }})
    )
{%- endmacro %}

{% macro spark__catalog_columns(schemas) -%}
    {#- Spark's Hive catalog has no information_schema: describe each relation. -#}
    {%- set rows = [] -%}
    {%- if execute -%}
        {%- for schema in schemas if adapter.check_schema_exists(none, schema) -%}
            {%- for table in run_query('show tables in ' ~ schema).rows if not table[2] -%}
                {%- set relation = api.Relation.create(schema=schema, identifier=table[1]) -%}
                {%- for column in adapter.get_columns_in_relation(relation) -%}
                    {%- do rows.append("('" ~ table[1] ~ "', '" ~ column.name ~ "')") -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if rows -%}
        (select * from values {{ rows | join(', ') }} as catalog_columns (table_name, column_name))
    {%- else -%}
        (select cast(null as string) as table_name, cast(null as string) as column_name where false)
    {%- endif -%}
{%- endmacro %}


{% macro json_field(json_expr, field) %}
    {#- The text value of top-level field `field` of a JSON text (null when absent or null). -#}
    {{ return(adapter.dispatch('json_field', 'custseg')(json_expr, field)) }}
{% endmacro %}

{% macro duckdb__json_field(json_expr, field) -%}
    json_extract_string({{ json_expr }}, '$.{{ field }}')
{%- endmacro %}

{% macro spark__json_field(json_expr, field) -%}
    get_json_object({{ json_expr }}, '$.{{ field }}')
{%- endmacro %}

{% macro unnest_structs(list_expr) %}
    {#- The fields of each struct of a list column as columns, one row per element (a select
        list expression; a row whose list is empty gives no rows). -#}
    {{- return(adapter.dispatch('unnest_structs', 'custseg')(list_expr)) -}}
{% endmacro %}

{% macro duckdb__unnest_structs(list_expr) -%}
    unnest({{ list_expr }}, recursive := true)
{%- endmacro %}

{% macro spark__unnest_structs(list_expr) -%}
    inline({{ list_expr }})
{%- endmacro %}

{% macro ordered_listagg(measure, delimiter, order_by) %}
    {#- The group's values of `measure` joined by `delimiter` (a SQL string literal) in the
        order of `order_by` (one column). dbt.listagg ignores the order on Spark. -#}
    {{- return(adapter.dispatch('ordered_listagg', 'custseg')(measure, delimiter, order_by)) -}}
{% endmacro %}

{% macro duckdb__ordered_listagg(measure, delimiter, order_by) -%}
    string_agg({{ measure }}, {{ delimiter }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__ordered_listagg(measure, delimiter, order_by) -%}
    array_join(
        transform(
            array_sort(collect_list(struct({{ order_by }} as sort_key, {{ measure }} as item))),
            entry -> entry.item
        ),
        {{ delimiter }}
    )
{%- endmacro %}


{% macro named_values_map(columns, prefix, value_type) %}
    {#-
        A map from each of `columns` (names, as text keys) to its value, read from
        `prefix ~ column` and cast to `value_type`: one typed column holding a varying set of
        columns (the extra customer attributes in dim_customer_segments). An empty map of that
        type when there is no column.
    -#}
    {{ return(adapter.dispatch('named_values_map', 'custseg')(columns, prefix, value_type)) }}
{% endmacro %}

{% macro duckdb__named_values_map(columns, prefix, value_type) -%}
    {%- if columns -%}
        map([{% for column in columns %}'{{ column }}'{{ ", " if not loop.last }}{% endfor %}], [
            {%- for column in columns -%}
                cast({{ prefix ~ column }} as {{ value_type }}){{ ", " if not loop.last }}
            {%- endfor -%}
        ])
    {%- else -%}
        cast(map() as map({{ dbt.type_string() }}, {{ value_type }}))
    {%- endif -%}
{%- endmacro %}

{% macro spark__named_values_map(columns, prefix, value_type) -%}
    {%- if columns -%}
        map({% for column in columns -%}
            '{{ column }}', cast({{ prefix ~ column }} as {{ value_type }}){{ ", " if not loop.last }}
        {%- endfor %})
    {%- else -%}
        cast(map() as map<{{ dbt.type_string() }}, {{ value_type }}>)
    {%- endif -%}
{%- endmacro %}
{#-
    Lists, structs and lambdas, for expressions that score one row at a time (the scoring of
    assign_segment and the predict_segment macros, macros/assign_segment.sql). `fields` is a
    list of (name, expression) pairs; positions are 1-based on both engines.
-#}

{% macro sql_struct(fields) %}
    {{- return(adapter.dispatch('sql_struct', 'custseg')(fields)) -}}
{% endmacro %}

{% macro duckdb__sql_struct(fields) -%}
    struct_pack({% for name, expression in fields -%}
        {{ name }} := {{ expression }}{{ ", " if not loop.last }}
    {%- endfor %})
{%- endmacro %}

{% macro spark__sql_struct(fields) -%}
    named_struct({% for name, expression in fields -%}
        '{{ name }}', {{ expression }}{{ ", " if not loop.last }}
    {%- endfor %})
{%- endmacro %}

{% macro sql_array(items) %}
    {{- return(adapter.dispatch('sql_array', 'custseg')(items)) -}}
{% endmacro %}

{% macro duckdb__sql_array(items) -%}
    list_value({{ items | join(', ') }})
{%- endmacro %}

{% macro spark__sql_array(items) -%}
    array({{ items | join(', ') }})
{%- endmacro %}

{% macro sql_transform(list_expr, variable, body) %}
    {#- Each element of the list as `variable`, through the expression `body`. -#}
    {{- return(adapter.dispatch('sql_transform', 'custseg')(list_expr, variable, body)) -}}
{% endmacro %}

{% macro duckdb__sql_transform(list_expr, variable, body) -%}
    list_transform({{ list_expr }}, lambda {{ variable }}: {{ body }})
{%- endmacro %}

{% macro spark__sql_transform(list_expr, variable, body) -%}
    transform({{ list_expr }}, {{ variable }} -> {{ body }})
{%- endmacro %}

{% macro sql_sort(list_expr) %}
    {#- The list in ascending order (structs: field by field). -#}
    {{- return(adapter.dispatch('sql_sort', 'custseg')(list_expr)) -}}
{% endmacro %}

{% macro duckdb__sql_sort(list_expr) -%}
    list_sort({{ list_expr }})
{%- endmacro %}

{% macro spark__sql_sort(list_expr) -%}
    array_sort({{ list_expr }})
{%- endmacro %}

{% macro sql_item(list_expr, position) %}
    {#- The element at `position` (1 = first). -#}
    {{- return(adapter.dispatch('sql_item', 'custseg')(list_expr, position)) -}}
{% endmacro %}

{% macro duckdb__sql_item(list_expr, position) -%}
    list_extract({{ list_expr }}, {{ position }})
{%- endmacro %}

{% macro spark__sql_item(list_expr, position) -%}
    element_at({{ list_expr }}, {{ position }})
{%- endmacro %}

{% macro sql_field(struct_expr, field) %}
    {#- A field of a struct-valued expression. -#}
    {{- return(adapter.dispatch('sql_field', 'custseg')(struct_expr, field)) -}}
{% endmacro %}

{% macro duckdb__sql_field(struct_expr, field) -%}
    struct_extract({{ struct_expr }}, '{{ field }}')
{%- endmacro %}

{% macro spark__sql_field(struct_expr, field) -%}
    ({{ struct_expr }}).{{ field }}
{%- endmacro %}

{% macro sql_let(value, variable, body) %}
    {#- `body` with `variable` bound to `value`, computed once per row (a one-element list
        through a lambda): what lets one expression - a DuckDB macro has no CTEs - reuse a
        value. -#}
    {{- return(sql_item(sql_transform(sql_array([value]), variable, body), 1)) -}}
{% endmacro %}

{% macro ordered_list_agg(expr, order_by) %}
    {#- The group's values of `expr` as a list, in the order of `order_by` (one column). -#}
    {{- return(adapter.dispatch('ordered_list_agg', 'custseg')(expr, order_by)) -}}
{% endmacro %}

{% macro duckdb__ordered_list_agg(expr, order_by) -%}
    list({{ expr }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__ordered_list_agg(expr, order_by) -%}
    transform(
        array_sort(collect_list(struct({{ order_by }} as sort_key, {{ expr }} as item))),
        entry -> entry.item
    )
{%- endmacro %}

{% macro sql_double(text) %}
    {#- A double literal from its exact text (round-trip digits), typed as double on both
        engines (a bare 0.5 is a decimal). -#}
    {{- return("cast('" ~ text ~ "' as double)") -}}
{% endmacro %}


{% macro recomputed() %}
    {#-
        Written between a CTE's name and its body (`rows as {{ recomputed() }} (`): a CTE that
        several parts of a query read is computed again for each instead of held whole in
        memory. On DuckDB, which holds such a CTE by default, for CTEs over every transaction
        that are cheap to read again: int_customer_purchase_totals peaked at 3.6 GB holding
        20M rows and takes 1 GB without. Spark plans CTEs on its own: nothing.
    -#}
    {{ return(adapter.dispatch('recomputed', 'custseg')()) }}
{% endmacro %}

{% macro duckdb__recomputed() -%}
    not materialized
{%- endmacro %}

{% macro spark__recomputed() -%}
{%- endmacro %}
