{% test sums_match(model, column_name, group_by, compare_model, compare_column, tolerance=0) %}
{#-
    Fails with each group (columns group_by, present in both models) where the sum of
    column_name in `model` differs from the sum of compare_column in compare_model by more
    than `tolerance` (relative to the larger absolute sum; 0 = exact). A group missing on one
    side sums to 0 there. E.g. a segment's histogram bins add up to its customers with a value.
-#}
with

model_sums as (
    select
        {{ group_by | join(', ') }},
        sum({{ column_name }}) as model_sum
    from {{ model }}
    group by {{ group_by | join(', ') }}
),

compare_sums as (
    select
        {{ group_by | join(', ') }},
        sum({{ compare_column }}) as compare_sum
    from {{ compare_model }}
    group by {{ group_by | join(', ') }}
),

compared as (
    select
        {% for column in group_by -%}
            coalesce(model_sums.{{ column }}, compare_sums.{{ column }}) as {{ column }},
        {% endfor -%}
        coalesce(model_sums.model_sum, 0) as model_sum,
        coalesce(compare_sums.compare_sum, 0) as compare_sum
    from model_sums
    full outer join compare_sums
        on {% for column in group_by -%}
            model_sums.{{ column }} = compare_sums.{{ column }}{{ " and " if not loop.last }}
        {%- endfor %}
)

select * from compared
where abs(model_sum - compare_sum)
    > {{ tolerance }} * greatest(abs(model_sum), abs(compare_sum))
{% endtest %}
