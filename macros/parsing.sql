{% macro to_number(text_expr) %}
    {#-
        A text value as a finite double, or null when it is not one: unparseable text, and
        also 'NaN', 'inf', '-Infinity' and overflowing numbers such as '1e400', which both
        engines parse as doubles (and order above every number, so they would pass checks
        like `> 0`). Every number staging reads goes through here; a null then gets the
        value's reject reason, or names it in invalid_attributes.
    -#}
    {{- return(adapter.dispatch('to_number', 'custseg')(text_expr)) -}}
{% endmacro %}

{% macro duckdb__to_number(text_expr) -%}
    case
        when isfinite(try_cast(trim({{ text_expr }}) as double))
            then try_cast(trim({{ text_expr }}) as double)
    end
{%- endmacro %}

{% macro spark__to_number(text_expr) -%}
    case
        when not isnan(try_cast(trim({{ text_expr }}) as double))
            and abs(try_cast(trim({{ text_expr }}) as double)) < double('infinity')
            then try_cast(trim({{ text_expr }}) as double)
    end
{%- endmacro %}
