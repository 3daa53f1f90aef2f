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
    {#- The salt from the Spark conf custseg.id_salt (variable substitution), not the SQL. -#}
    sha2(concat('${custseg.id_salt}', {{ column }}), 256)
{%- endmacro %}
