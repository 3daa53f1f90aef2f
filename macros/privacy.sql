{% macro customer_key(column) %}
    {#-
        The customer id as the marts expose it: the id itself, or with var
        pseudonymize_customer_ids a salted SHA-256 hex digest for sharing outside the team.
        The salt comes from the CUSTSEG_ID_SALT environment variable at query time and never
        appears in compiled SQL (see custseg.duckdb_plugin).
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
