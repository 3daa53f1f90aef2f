{#-
    Every segment id the history ever used, with the name it goes by: a segment keeps the
    generated name it had when its traits last changed - as long as a fit gives it the same set
    of traits (int_segment_traits; their order aside), retrains do not rename it, so a 0.02 SD
    drift that swaps two traits' ranks leaves "High spend · broad range · frequent" as it is.
    New traits make a new name. Names come from the segment's latest fit (a retired id keeps
    its last one); two live segments with the same name are told apart by their ids; an
    override (seed segment_name_overrides, by stable id) wins.
-#}

with

fit_traits as (
    select * from {{ ref('int_segment_traits') }}
),

overrides as (
    select * from {{ ref('segment_name_overrides') }}
),

latest_runs as (
    -- Each id's latest fit, and the latest fit of all (the one the build scores with).
    select
        segment_id,
        max(run_number) as last_run_number,
        max(max(run_number)) over () as latest_fit_run_number
    from fit_traits
    group by segment_id
),

current_traits as (
    select fit_traits.*
    from fit_traits
    inner join latest_runs
        on
            fit_traits.segment_id = latest_runs.segment_id
            and fit_traits.run_number = latest_runs.last_run_number
),

last_change as (
    -- The latest earlier fit that gave the segment other traits.
    select
        current_traits.segment_id,
        max(earlier.run_number) as changed_run_number
    from current_traits
    left join fit_traits as earlier
        on
            current_traits.segment_id = earlier.segment_id
            and current_traits.run_number > earlier.run_number
            and current_traits.trait_set != earlier.trait_set
    group by current_traits.segment_id
),

name_origin as (
    -- The first fit since then: the name was made there.
    select
        last_change.segment_id,
        min(fit_traits.run_number) as named_run_number
    from last_change
    inner join fit_traits
        on
            last_change.segment_id = fit_traits.segment_id
            and fit_traits.run_number > coalesce(last_change.changed_run_number, 0)
    group by last_change.segment_id
),

stable as (
    select
        current_traits.segment_id,
        current_traits.run_number,
        named.base_name,
        name_origin.named_run_number,
        current_traits.generated_description,
        current_traits.traits
    from current_traits
    inner join name_origin on current_traits.segment_id = name_origin.segment_id
    inner join fit_traits as named
        on
            name_origin.segment_id = named.segment_id
            and name_origin.named_run_number = named.run_number
),

deduplicated as (
    select
        segment_id,
        run_number,
        named_run_number,
        case
            when count(*) over (partition by run_number, base_name) > 1
                then base_name || ' (segment ' || cast(segment_id as {{ dbt.type_string() }}) || ')'
            else base_name
        end as generated_name,
        generated_description,
        traits
    from stable
),

named as (
    select
        deduplicated.segment_id,
        coalesce(overrides.segment_name, deduplicated.generated_name) as segment_name,
        coalesce(overrides.segment_description, deduplicated.generated_description)
            as segment_description,
        case when overrides.segment_name is null then 'generated' else 'override' end
            as name_source,
        deduplicated.generated_name,
        deduplicated.traits,
        deduplicated.named_run_number,
        deduplicated.run_number as last_fit_run_number,
        deduplicated.run_number = latest_runs.latest_fit_run_number as is_current
    from deduplicated
    inner join latest_runs on deduplicated.segment_id = latest_runs.segment_id
    left join overrides on deduplicated.segment_id = overrides.segment_id
)

select * from named
