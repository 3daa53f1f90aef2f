{#-
    One row per segment of the latest fit: its readable name and one-line description, made
    from its most distinctive features (int_segment_traits) and kept across retrains while
    those stay the same (int_segment_names); segment_name_overrides (keyed by stable segment
    id) replaces generated names, so a name marketing chose survives retrains.
-#}

with

names as (
    select * from {{ ref('int_segment_names') }}
),

current_segments as (
    select
        segment_id,
        segment_name,
        segment_description,
        name_source,
        generated_name,
        traits,
        named_run_number
    from names
    where is_current
)

select * from current_segments
