{#- Reusable binning: labelled bands from edges, and 1-5 quintile scores. -#}

{% macro band_label(expr, edges, unit='') %}
    {#-
        Labels `expr` by ascending `edges` with the lower edge inclusive:
        edges [25, 35] give '<25', '25-34', '35+' (unit 'k' divides labels by 1000: '25k-50k').
        Null gives 'unknown'.
    -#}
    {%- set divisor = 1000 if unit == 'k' else 1 -%}
    {%- set labels = [] -%}
    {%- for edge in edges -%}
        {%- do labels.append((edge / divisor) | int ~ unit) -%}
    {%- endfor -%}
    case
        when {{ expr }} is null then 'unknown'
        {%- for edge in edges %}
        when {{ expr }} < {{ edge }} then
            {%- if loop.first %} '<{{ labels[0] }}'
            {%- elif unit == 'k' %} '{{ labels[loop.index0 - 1] }}-{{ labels[loop.index0] }}'
            {%- else %} '{{ labels[loop.index0 - 1] }}-{{ edge - 1 }}'
            {%- endif %}
        {%- endfor %}
        else '{{ labels[-1] }}+'
    end
{%- endmacro %}


{% macro quintile_score(expr, among, descending=false) %}
    {#-
        1-5 score of `expr` among the rows where `among` is true (others get null); 5 is the
        top fifth. Ties share a score (cume_dist gives tied rows the same value), so a score
        never depends on row order. descending=true scores small values high (recency).
    -#}
    case
        when {{ among }} then cast(ceil(5 * cume_dist() over (
            partition by {{ among }}
            order by {{ expr }}{{ " desc" if descending }}
        )) as integer)
    end
{%- endmacro %}
