{% macro rank_copies(relation, keys, order_by, row_json, repeated=none) %}
    {#-
        The rows of `relation` (a CTE), each with _copy_number (1 = the copy kept among rows
        sharing `keys`, by `order_by`) and _same_as_kept (whether `row_json`, the row's raw
        values as JSON, equals the kept copy's; true for the kept copy), so a model can tell
        exact duplicates from conflicting ones. Only keys that occur more than once are sorted,
        and only their rows get JSON: with few duplicates (20M transactions) this saves a sort
        of every row and gigabytes of strings. A row with a null key is its own copy 1 (models
        reject it as missing).

        Finding the repeated keys in `relation` itself makes the database hold every row of it
        until they are known. A large input passes `repeated` instead: {'keys': a CTE of the
        keys more than one row carries, 'rows': a CTE of those rows, as `relation` has them},
        both from reads of their own (base_transactions), so `relation` streams to the table.
    -#}
    {%- set key_match -%}
        {%- for key in keys %}{{ " and " if not loop.first }}repeated_keys.{{ key }} = {{ relation }}.{{ key }}{% endfor -%}
    {%- endset -%}
    (
        with

        repeated_keys as (
            {%- if repeated is not none %}
                select * from {{ repeated['keys'] }}
            {%- else %}
                select {{ keys | join(', ') }}
                from {{ relation }}
                where {% for key in keys %}{{ " and " if not loop.first }}{{ key }} is not null{% endfor %}
                group by {{ keys | join(', ') }}
                having count(*) > 1
            {%- endif %}
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
            {%- if repeated is not none %}
                from {{ repeated['rows'] }}
            {%- else %}
                from {{ relation }}
                where exists (select 1 from repeated_keys where {{ key_match }})
            {%- endif %}
        )

        select * from single_copies
        union all
        select * from repeated_copies
    )
{% endmacro %}


{% macro reject_copies(relation, keys, columns, better_first, copy_name, repeated=none) %}
    {#-
        The rows of `relation` (a CTE with _row_reason, the first rule the row breaks, null when
        none, and raw_<column> for each of `columns`) ranked by rank_copies, with reject_reason:
        _row_reason, else for a copy after the kept one duplicate_<copy_name> when its raw
        values equal the kept copy's, else conflicting_<copy_name>. The kept copy is the first
        by `better_first`, then by raw values (copy_order_by). So every base model rejects
        repeated keys alike. `repeated`: as rank_copies.
    -#}
    {%- set order_by = copy_order_by(better_first, columns) -%}
    {%- set row_json = columns_to_json(columns, prefix='raw_') -%}
    (
        select
            *,
            coalesce(
                _row_reason,
                case
                    when _copy_number > 1 and _same_as_kept then 'duplicate_{{ copy_name }}'
                    when _copy_number > 1 then 'conflicting_{{ copy_name }}'
                end
            ) as reject_reason
        from {{ rank_copies(relation, keys, order_by, row_json, repeated) }} as ranked
    )
{% endmacro %}


{% macro copy_order_by(better_first, columns) %}
    {#-
        The order of rank_copies: `better_first` (what makes a copy better, e.g. valid ones
        first), then the raw values of `columns`, so the choice never depends on the order rows
        were read in.
    -#}
    {%- set terms = [better_first] -%}
    {%- for column in columns -%}
        {%- do terms.append('raw_' ~ column) -%}
    {%- endfor -%}
    {{ return(terms | join(', ')) }}
{% endmacro %}


{% macro raw_values(columns) %}
    {#-
        Each of `columns` as it came, as raw_<column>: what copies are compared on and a
        rejected row's raw_record is made of. Renders a select list ending in a comma.
    -#}
    {%- for column in columns %}
        {{ column }} as raw_{{ column }},
    {%- endfor %}
{% endmacro %}


{% macro raw_record_if_rejected(columns) %}
    {#- raw_record: a rejected row's raw values of `columns` as JSON; null for an accepted row. -#}
    case when reject_reason is not null then {{ columns_to_json(columns, prefix='raw_') }} end
{% endmacro %}
