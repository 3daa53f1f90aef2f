{% macro rank_copies(relation, keys, order_by, row_json) %}
    {#-
        The rows of `relation` (a CTE), each with _copy_number (1 = the copy kept among rows
        sharing `keys`, by `order_by`) and _same_as_kept (whether `row_json`, the row's raw
        values as JSON, equals the kept copy's; true for the kept copy), so a model can tell
        exact duplicates from conflicting ones. Only keys that occur more than once are sorted,
        and only their rows get JSON: with few duplicates (20M transactions) this saves a sort
        of every row and gigabytes of strings. A row with a null key is its own copy 1 (models
        reject it as missing).
    -#}
    {%- set key_match -%}
        {%- for key in keys %}{{ " and " if not loop.first }}repeated_keys.{{ key }} = {{ relation }}.{{ key }}{% endfor -%}
    {%- endset -%}
    (
        with

        repeated_keys as (
            select {{ keys | join(', ') }}
            from {{ relation }}
            where {% for key in keys %}{{ " and " if not loop.first }}{{ key }} is not null{% endfor %}
            group by {{ keys | join(', ') }}
            having count(*) > 1
        ),

        single_copies as (
            select
                *,
                1 as _copy_number,
                true as _same_as_kept
            from {{ relation }}
            where not exists (select 1 from repeated_keys where {{ key_match }})
        ),

        repeated_copies as (
            select
                *,
                row_number() over (
                    partition by {{ keys | join(', ') }} order by {{ order_by }}
                ) as _copy_number,
                {{ row_json }} = first_value({{ row_json }}) over (
                    partition by {{ keys | join(', ') }} order by {{ order_by }}
                    rows between unbounded preceding and unbounded following
                ) as _same_as_kept
            from {{ relation }}
            where exists (select 1 from repeated_keys where {{ key_match }})
        )

        select * from single_copies
        union all
        select * from repeated_copies
    )
{% endmacro %}
