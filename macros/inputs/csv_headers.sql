{% macro csv_header(path) %}
    {#-
        The column names on the first line of a CSV file (quoted names may hold commas), read
        as one unparsed line so that no later record can stop it. A missing header, or a blank
        or repeated name, is a compile error.
    -#}
    {%- set first_line = run_query(
        "select line from read_csv(" ~ custseg.sql_string(path) ~ ", header = false,"
        ~ " auto_detect = false, columns = {'line': 'varchar'}, delim = '\x1f', quote = '',"
        ~ " escape = '', strict_mode = false, ignore_errors = true) limit 1") -%}
    {%- if first_line.rows | length == 0 or first_line.rows[0][0] is none -%}
        {{ exceptions.raise_compiler_error("'" ~ path ~ "' has no header row.") }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for field in modules.re.finditer('(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))', first_line.rows[0][0]) -%}
        {%- set name = field.group(1).replace('""', '"') if field.group(1) is not none
            else field.group(2).strip() -%}
        {%- if name == '' or name in names -%}
            {{ exceptions.raise_compiler_error(
                "'" ~ path ~ "': every header field needs a distinct, non-empty column name.") }}
        {%- endif -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}
