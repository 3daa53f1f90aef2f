{#-
    Who moved where: customers per (from segment, to segment) between consecutive snapshots of
    customer_segments_snapshot. A snapshot time is any time a version started or ended. A null
    from_segment_id is a customer new at to_snapshot_at; a null to_segment_id one that left.
    Segments are named as they are named now (int_segment_names, overrides included; a retired
    segment by its last name), not as the snapshot recorded them.
-#}

with

snapshot as (
    select * from {{ ref('customer_segments_snapshot') }}
),

names as (
    select * from {{ ref('int_segment_names') }}
),

snapshot_times as (
    select dbt_valid_from as snapshot_at from snapshot
    union
    select dbt_valid_to as snapshot_at from snapshot
    where dbt_valid_to is not null
),

consecutive as (
    select
        lag(snapshot_at) over (order by snapshot_at) as from_snapshot_at,
        snapshot_at as to_snapshot_at
    from snapshot_times
),

membership as (
    select
        snapshot_times.snapshot_at,
        snapshot.customer_id,
        snapshot.segment_id
    from snapshot_times
    inner join snapshot
        on
            snapshot_times.snapshot_at >= snapshot.dbt_valid_from
            and (snapshot.dbt_valid_to is null or snapshot_times.snapshot_at < snapshot.dbt_valid_to)
),

pair_customers as (
    select distinct
        consecutive.from_snapshot_at,
        consecutive.to_snapshot_at,
        membership.customer_id
    from consecutive
    inner join membership
        on
            consecutive.from_snapshot_at = membership.snapshot_at
            or consecutive.to_snapshot_at = membership.snapshot_at
),

moves as (
    select
        pair_customers.from_snapshot_at,
        pair_customers.to_snapshot_at,
        before_move.segment_id as from_segment_id,
        after_move.segment_id as to_segment_id
    from pair_customers
    left join membership as before_move
        on
            pair_customers.from_snapshot_at = before_move.snapshot_at
            and pair_customers.customer_id = before_move.customer_id
    left join membership as after_move
        on
            pair_customers.to_snapshot_at = after_move.snapshot_at
            and pair_customers.customer_id = after_move.customer_id
),

counted as (
    select
        from_snapshot_at,
        to_snapshot_at,
        from_segment_id,
        to_segment_id,
        case
            when from_segment_id is null then 'new'
            when to_segment_id is null then 'left'
            when from_segment_id = to_segment_id then 'stayed'
            else 'moved'
        end as transition,
        count(*) as customers
    from moves
    group by 1, 2, 3, 4
),

named as (
    select
        counted.from_snapshot_at,
        counted.to_snapshot_at,
        counted.from_segment_id,
        from_names.segment_name as from_segment_name,
        counted.to_segment_id,
        to_names.segment_name as to_segment_name,
        counted.transition,
        counted.customers
    from counted
    left join names as from_names on counted.from_segment_id = from_names.segment_id
    left join names as to_names on counted.to_segment_id = to_names.segment_id
)

select * from named
