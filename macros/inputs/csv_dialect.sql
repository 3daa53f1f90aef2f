{#-
    The dialect of a CSV input file, found from its bytes (DuckDB only: Spark reads Parquet):
    its delimiter (var csv_delimiter, else the one of , ; tab | its header line holds most
    often, outside quotes), its encoding (var csv_encoding, else UTF-8 when the file is valid
    UTF-8 or holds any valid UTF-8 multi-byte character, so that a UTF-8 file with a few bad
    records keeps them as csv_invalid_encoding rejects; else Windows-1252, which is Latin-1
    for every printable character) and that its line endings are all LF or all CRLF (DuckDB
    reads one kind per file: a mix stops the build, saying so).
-#}

{% macro csv_dialect(path) %}
    {#-
        {delimiter, encoding, path}: path is the file to read, a UTF-8 copy for other
        encodings. Found once per node (node_cache): a model asks for its input's columns in
        several macros, and each read would scan the whole file again.
    -#}
    {{ return(once_per_node('csv_dialect:' ~ path, custseg.csv_dialect_of, [path])) }}
{% endmacro %}


{% macro csv_dialect_of(path) %}
    {#- csv_dialect, read from the file's bytes. -#}
    {%- set file = custseg.sql_string(path) -%}
    {%- set probe -%}
        with

        file_bytes as (
            select
                cast(content as varchar) as escaped,
                try(decode(content)) is not null as is_utf8,
                size,
                epoch(last_modified) as modified
            from read_blob({{ file }})
        ),

        measured as (
            select
                is_utf8,
                is_utf8 or regexp_matches(
                    escaped,
                    '\\x[C-D][0-9A-F]\\x[89AB][0-9A-F]|\\xE[0-9A-F](\\x[89AB][0-9A-F]){2}|\\xF[0-4](\\x[89AB][0-9A-F]){3}'
                ) as has_utf8,
                split_part(escaped, '\x0A', 1) as header_line,
                case
                    when contains(escaped, '\x0D\x0A')
                        then regexp_replace(escaped, '"[^"]*"', '', 'g')
                end as unquoted,
                size,
                modified
            from file_bytes
        )

        select
            is_utf8,
            has_utf8,
            regexp_replace(replace(header_line, '\x09', chr(9)), '"[^"]*"', '', 'g') as header_line,
            coalesce((length(unquoted) - length(replace(unquoted, '\x0D\x0A', ''))) // 8, 0) as crlf,
            coalesce((length(unquoted) - length(replace(unquoted, '\x0A', ''))) // 4, 0) as lf,
            size,
            modified
        from measured
    {%- endset -%}
    {%- set row = run_query(probe).rows[0] -%}
    {%- if row[3] > 0 and row[4] > row[3] -%}
        {%- do stop_build(
            "'" ~ path ~ "' mixes line endings: " ~ row[3] ~ " lines end in CRLF (\\r\\n) and "
            ~ (row[4] - row[3]) ~ " in LF (\\n). DuckDB reads one kind per file: save it again "
            ~ "with one kind (e.g. dos2unix '" ~ path ~ "') and rebuild.") -%}
    {%- endif -%}

    {%- set delimiter = var('csv_delimiter', none) -%}
    {%- if delimiter is none -%}
        {%- set header = row[2] -%}
        {%- set counts = {} -%}
        {%- for candidate in [',', ';', '\t', '|'] -%}
            {%- do counts.update({candidate: header.count(candidate)}) -%}
        {%- endfor -%}
        {%- set most = counts.values() | max -%}
        {%- set best = [] -%}
        {%- for candidate, count in counts.items() if count == most -%}
            {%- do best.append(candidate) -%}
        {%- endfor -%}
        {%- if most > 0 and best | length > 1 -%}
            {%- do stop_build(
                "'" ~ path ~ "': its header holds as many of " ~ best | map('replace', '\t', 'tab')
                | join(' and ') ~ " (" ~ most ~ " each): set var csv_delimiter.") -%}
        {%- endif -%}
        {%- set delimiter = best[0] if most > 0 else ',' -%}
    {%- endif -%}

    {%- set encoding = csv_encoding_name(var('csv_encoding', none)) -%}
    {%- if encoding is none -%}
        {%- set encoding = 'utf-8' if row[1] else 'windows-1252' -%}
    {%- endif -%}
    {%- set readable = path -%}
    {%- if encoding != 'utf-8' and not row[0] -%}
        {%- set readable = csv_utf8_copy(path, encoding, row[5], row[6]) -%}
    {%- endif -%}
    {{ return({'delimiter': delimiter, 'encoding': encoding, 'path': readable}) }}
{% endmacro %}


{% macro csv_encoding_name(given) %}
    {#- Var csv_encoding's value as utf-8, latin-1 or windows-1252 (none: detect). -#}
    {%- if given is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set key = given | lower | replace('-', '') | replace('_', '') | replace(' ', '') -%}
    {%- set names = {'utf8': 'utf-8', 'latin1': 'latin-1', 'iso88591': 'latin-1',
                     'windows1252': 'windows-1252', 'cp1252': 'windows-1252'} -%}
    {%- if key not in names -%}
        {%- do stop_build(
            "var csv_encoding: '" ~ given ~ "' is not one of utf-8, latin-1 (iso-8859-1), "
            ~ "windows-1252 (cp1252); leave it null to detect.") -%}
    {%- endif -%}
    {{ return(names[key]) }}
{% endmacro %}


{% macro csv_utf8_copy(path, encoding, size, modified) %}
    {#-
        A UTF-8 copy of the file `path` in `encoding` (latin-1 or windows-1252), written once
        per file version to the temporary directory (TMPDIR, else /tmp); returns its path.
        Same bytes for every ASCII character, so line numbers and quoting are unchanged.
        DuckDB's own latin-1 reader refuses bytes 0x80-0x9F (Windows-1252's euro sign and
        quotes), so the bytes are mapped here.
    -#}
    {%- set copy_path = env_var('TMPDIR', '/tmp').rstrip('/') ~ '/custseg-utf8-'
        ~ local_md5(path ~ '|' ~ encoding ~ '|' ~ size ~ '|' ~ modified) ~ '.csv' -%}
    {%- if run_query('select count(*) from glob(' ~ custseg.sql_string(copy_path) ~ ')').rows[0][0] == 0 -%}
        {%- set windows_1252 = {128: 8364, 130: 8218, 131: 402, 132: 8222, 133: 8230, 134: 8224,
            135: 8225, 136: 710, 137: 8240, 138: 352, 139: 8249, 140: 338, 142: 381, 145: 8216,
            146: 8217, 147: 8220, 148: 8221, 149: 8226, 150: 8211, 151: 8212, 152: 732,
            153: 8482, 154: 353, 155: 8250, 156: 339, 158: 382, 159: 376} -%}
        {%- set present = run_query(
            "select distinct unnest(regexp_extract_all(cast(content as varchar), '\\\\x[0-9A-F]{2}'))"
            ~ " from read_blob(" ~ custseg.sql_string(path) ~ ")") -%}
        {%- set text = namespace(sql="regexp_replace(cast(content as varchar), '\\\\x0A$', '')") -%}
        {#- A backslash is escaped too (\x5C): replaced last, it cannot form a new escape. -#}
        {%- set escapes = present.rows | map(attribute=0) | reject('equalto', '\\x5C') | list -%}
        {%- for escape in escapes + ['\\x5C'] -%}
            {%- set byte = escape[2:] | int(base=16) -%}
            {%- set code = windows_1252.get(byte, byte) if encoding == 'windows-1252' else byte -%}
            {%- set text.sql = 'replace(' ~ text.sql ~ ", '" ~ escape ~ "', chr(" ~ code ~ '))' -%}
        {%- endfor -%}
        {%- do run_query(
            'copy (select ' ~ text.sql ~ ' from read_blob(' ~ custseg.sql_string(path) ~ ')) to '
            ~ custseg.sql_string(copy_path)
            ~ " (format csv, header false, quote '', escape '', delimiter '\x1f')") -%}
    {%- endif -%}
    {{ return(copy_path) }}
{% endmacro %}
