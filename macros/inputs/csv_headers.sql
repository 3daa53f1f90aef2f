{% macro csv_header(path, delimiter=',', shown_path=none) %}
    {#-
        The column names on the first line of a CSV file (quoted names may hold the
        delimiter), read as one unparsed line so that no later record can stop it, once per
        node (node_cache). A missing header, or a blank or repeated name, stops the build
        naming shown_path (default: path; the file as given when path is its UTF-8 copy).
    -#}
    {{ return(once_per_node('csv_header:' ~ path ~ ':' ~ delimiter, custseg.csv_header_of,
        [path, delimiter, shown_path or path])) }}
{% endmacro %}


{% macro csv_header_of(path, delimiter, shown_path) %}
    {#- csv_header, read from the file. -#}
    {%- set d = modules.re.escape(delimiter) -%}
    {%- set first_line = run_query(
        "select line from read_csv(" ~ custseg.sql_string(path) ~ ", header = false,"
        ~ " auto_detect = false, columns = {'line': 'varchar'}, delim = '\x1f', quote = '',"
        ~ " escape = '', strict_mode = false, ignore_errors = true) limit 1") -%}
    {%- if first_line.rows | length == 0 or first_line.rows[0][0] is none -%}
        {%- do stop_build("'" ~ shown_path ~ "' has no header row.") -%}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for field in modules.re.finditer('(?:^|' ~ d ~ ')(?:"((?:[^"]|"")*)"|([^' ~ d ~ ']*))', first_line.rows[0][0].rstrip('\r')) -%}
        {%- set name = field.group(1).replace('""', '"') if field.group(1) is not none
            else field.group(2).strip() -%}
        {%- if name == '' or name in names -%}
            {%- do stop_build(
                "'" ~ shown_path ~ "': every header field needs a distinct, non-empty column name.") -%}
        {%- endif -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}
