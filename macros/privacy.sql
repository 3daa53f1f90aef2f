{% macro customer_key(column) %}
    {#-
        The customer id as the serving file exposes it (macros/serving.sql): the id itself,
        or with var pseudonymize_customer_ids a salted SHA-256 hex digest for sharing outside
        the team. The build file keeps real ids whatever the setting (its snapshot and
        transitions too). The salt comes from the CUSTSEG_ID_SALT environment variable at
        query time and never appears in compiled SQL (see custseg.duckdb_plugin); hash your own
        ids with this macro to join them to the serving file's.
    -#}
    {%- if var('pseudonymize_customer_ids') -%}
        {{ return(adapter.dispatch('customer_key', 'custseg')(column)) }}
    {%- else -%}
        {{ return(column) }}
    {%- endif -%}
{% endmacro %}

{% macro duckdb__customer_key(column) -%}
    sha256(custseg_id_salt() || {{ column }})
{%- endmacro %}

{% macro spark__customer_key(column) -%}
    {#-
        The salt from the Spark conf custseg.id_salt (variable substitution; profiles.yml sets
        it from CUSTSEG_ID_SALT), so it is not in the SQL. An empty or unset salt is an error,
        as on DuckDB, not unsalted hashes.
    -#}
    sha2(concat(
        coalesce(
            nullif(nullif('${custseg.id_salt}', ''), '$' || '{custseg.id_salt}'),
            raise_error('pseudonymize_customer_ids is on but the Spark conf custseg.id_salt is empty: export CUSTSEG_ID_SALT=<a long random secret> (profiles.yml passes it to Spark)')
        ),
        {{ column }}
    ), 256)
{%- endmacro %}


{% macro is_customer_id_column(name) %}
    {#-
        Whether the column `name` holds a customer id (customer_id, or a name ending in
        _customer_id): the columns publishing passes through customer_key.
    -#}
    {{ return(modules.re.fullmatch('(.*_)?customer_id', name | lower) is not none) }}
{% endmacro %}
