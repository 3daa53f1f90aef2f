{#-
    How staging reads text as numbers, booleans, ids, codes and cleaned text attributes, each
    written once. Dates and timestamps are in macros/inputs/timestamp_formats.sql.
-#}

{% macro to_number(text_expr) %}
    {#-
        A text value as a finite double, or null when it is not one: unparseable text, and
        also 'NaN', 'inf', '-Infinity' and overflowing numbers such as '1e400', which both
        engines parse as doubles (and order above every number, so they would pass checks
        like `> 0`). Every number staging reads goes through here; a null then gets the
        value's reject reason, or names it in invalid_attributes. Numbers as exports write
        them parse too (number_text): '$1,120.20', '1,120.20', '(12.50)' (negative),
        '€ 1.234,50', '12,5'.
    -#}
    {#- A plain number (nearly every value) is cast as it is; only text that does not cast
        is trimmed and rewritten by number_text, so the common case costs two casts, not five. -#}
    {%- set plain = adapter.dispatch('number_cast_text', 'custseg')(text_expr) -%}
    {%- set finite = adapter.dispatch('to_number', 'custseg') -%}
    {{- return('coalesce(' ~ finite(plain) ~ ', case when try_cast(' ~ plain
               ~ ' as double) is null then ' ~ finite(number_text('trim(' ~ text_expr ~ ')'))
               ~ ' end)') -}}
{% endmacro %}

{% macro default__number_cast_text(text_expr) -%}
    trim({{ text_expr }})
{%- endmacro %}

{% macro duckdb__number_cast_text(text_expr) -%}
    {#- DuckDB's cast to double skips the spaces around a number itself (tabs and line breaks
        too); trimming first would copy every value. Text the cast refuses is trimmed after. -#}
    {{ text_expr }}
{%- endmacro %}

{% macro duckdb__to_number(number_expr) -%}
    case
        when isfinite(try_cast({{ number_expr }} as double))
            then try_cast({{ number_expr }} as double)
    end
{%- endmacro %}

{% macro spark__to_number(number_expr) -%}
    case
        when not isnan(try_cast({{ number_expr }} as double))
            and abs(try_cast({{ number_expr }} as double)) < double('infinity')
            then try_cast({{ number_expr }} as double)
    end
{%- endmacro %}


{% macro number_text(text_expr) %}
    {#-
        A trimmed text value with a number as exports write it rewritten as a plain number
        (sign, digits, '.'); any other text unchanged, so plain numbers parse exactly as before.
        A currency sign ($ € £ ¥, before or after, spaces allowed) is dropped; parentheses
        mean negative. Separators: '1,234.50' and '1,234' (commas grouping thousands by three,
        '.' decimal) are read first; otherwise '1.234,50', '1.234.567' (dots grouping) and
        '12,5' (a decimal comma). So '1,234' is 1234 and '1.234' is 1.234.
    -#}
    {%- set currency = '[$€£¥]' -%}
    {%- set comma_grouped = '(' ~ currency ~ ' ?)?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)([.][0-9]+)?( ?' ~ currency ~ ')?' -%}
    {%- set dot_grouped = '(' ~ currency ~ ' ?)?([0-9]{1,3}([.][0-9]{3})+|[0-9]+)(,[0-9]+)?( ?' ~ currency ~ ')?' -%}
    {{- return(adapter.dispatch('number_text', 'custseg')(
        text_expr, '^(-? ?' ~ comma_grouped ~ '|[(] ?' ~ comma_grouped ~ ' ?[)])$',
        '^(-? ?' ~ dot_grouped ~ '|[(] ?' ~ dot_grouped ~ ' ?[)])$')) -}}
{% endmacro %}

{% macro duckdb__number_text(text_expr, comma_grouped, dot_grouped) -%}
    case
        when try_cast({{ text_expr }} as double) is not null then {{ text_expr }}
        when regexp_matches({{ text_expr }}, '{{ comma_grouped }}')
            then concat(
                case when regexp_matches({{ text_expr }}, '^[-(]') then '-' end,
                regexp_replace({{ text_expr }}, '[^0-9.]', '', 'g')
            )
        when regexp_matches({{ text_expr }}, '{{ dot_grouped }}')
            then concat(
                case when regexp_matches({{ text_expr }}, '^[-(]') then '-' end,
                replace(regexp_replace({{ text_expr }}, '[^0-9,]', '', 'g'), ',', '.')
            )
        else {{ text_expr }}
    end
{%- endmacro %}

{% macro spark__number_text(text_expr, comma_grouped, dot_grouped) -%}
    case
        when try_cast({{ text_expr }} as double) is not null then {{ text_expr }}
        when {{ text_expr }} rlike '{{ comma_grouped }}'
            then concat(
                case when {{ text_expr }} rlike '^[-(]' then '-' else '' end,
                regexp_replace({{ text_expr }}, '[^0-9.]', '')
            )
        when {{ text_expr }} rlike '{{ dot_grouped }}'
            then concat(
                case when {{ text_expr }} rlike '^[-(]' then '-' else '' end,
                replace(regexp_replace({{ text_expr }}, '[^0-9,]', ''), ',', '.')
            )
        else {{ text_expr }}
    end
{%- endmacro %}


{% macro to_boolean(text_expr) -%}
    {#-
        A text value as a boolean: true / t / yes / y / 1 and false / f / no / n / 0, in any
        case and trimmed; null for anything else (the caller names it invalid). The same SQL
        on every engine.
    -#}
    case
        when lower(trim({{ text_expr }})) in ('true', 't', 'yes', 'y', '1') then true
        when lower(trim({{ text_expr }})) in ('false', 'f', 'no', 'n', '0') then false
    end
{%- endmacro %}


{% macro to_id(expr) -%}
    {#-
        An id as staging keys it (customer_id, transaction_id, campaign_id): as text, trimmed,
        an empty one null; case and inner spaces kept. Joins of outside ids use it too
        (analyses/join_external_campaigns.sql).
    -#}
    nullif(trim(cast({{ expr }} as string)), '')
{%- endmacro %}


{% macro to_code(text_expr) -%}
    {#-
        A code as staging keeps it (offer_type, channel): trimmed, lowercased, spaces as
        underscores, an empty one null (' Free Shipping ' is free_shipping). The analyses
        normalise their vars with it, so they match what staging wrote.
    -#}
    nullif(replace(lower(trim({{ text_expr }})), ' ', '_'), '')
{%- endmacro %}


{% macro clean_text(text_expr) -%}
    {#-
        A text attribute as staging keeps it: trimmed and lowercased, empty text as null. The
        contract's text attributes of customers (gender, city, membership_tier) and the extra
        text columns of the input (categorical features, README "Categorical features") are
        cleaned here, and the extra ones' levels are counted on this value. The same SQL on
        every engine.
    -#}
    nullif(lower(trim({{ text_expr }})), '')
{%- endmacro %}
