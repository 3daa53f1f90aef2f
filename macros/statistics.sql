{#-
    Small statistics in plain SQL (sqrt and arithmetic only, so the same on every engine).
-#}

{% macro wilson_bound(successes, trials, side, z=1.96) -%}
    {#-
        Wilson score interval bound for the proportion successes / trials at normal quantile z
        (1.96 = 95%): (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n). Unlike p ± z·SE it
        stays inside [0, 1] and is wide for small n, so a segment with 3 contacts and
        2 responses is not read as a 67% responder. side is 'lower' or 'upper'; null when
        trials is 0 or null.
    -#}
    {%- if side not in ('lower', 'upper') -%}
        {{ exceptions.raise_compiler_error("wilson_bound: side must be 'lower' or 'upper', got " ~ side) }}
    {%- endif -%}
    {%- set n = 'cast(' ~ trials ~ ' as double)' -%}
    {%- set p = '(cast(' ~ successes ~ ' as double) / nullif(' ~ n ~ ', 0))' -%}
    {%- set z2 = '(' ~ z ~ ' * ' ~ z ~ ')' -%}
    {#-
        At p = 0 (p = 1) the lower (upper) bound is exactly 0 (1); the formula's rounding would
        put it a hair off, so those cases are set, and the rest clamped to [0, 1].
    -#}
    case
        when nullif({{ n }}, 0) is null then null
        {%- if side == 'lower' %}
        when {{ successes }} = 0 then 0.0
        {%- else %}
        when {{ successes }} = {{ trials }} then 1.0
        {%- endif %}
        else {{ 'greatest(0.0, ' if side == 'lower' else 'least(1.0, ' }}
            ({{ p }} + {{ z2 }} / (2 * {{ n }})
                {{ '-' if side == 'lower' else '+' }} {{ z }} * sqrt(
                    {{ p }} * (1 - {{ p }}) / {{ n }} + {{ z2 }} / (4 * {{ n }} * {{ n }})
                ))
            / (1 + {{ z2 }} / {{ n }})
        )
    end
{%- endmacro %}

{% macro bounded_avg(expr) -%}
    {#-
        The mean of expr, kept inside [min, max]: a float sum can round the mean of identical
        values just outside them (24 values of 3.8 average to 3.7999999999999985), which reads
        as a bug in a profile and breaks min <= mean <= max. Off by at most the rounding.
    -#}
    least(greatest(avg({{ expr }}), min({{ expr }})), max({{ expr }}))
{%- endmacro %}
