{#-
    One row per segment of the latest fit: a readable name and a one-line description made
    from the segment's most distinctive features (its scaled centroid: how many standard
    deviations - IQRs with the robust scaler - it sits from the average customer), worded by
    the feature catalogue (high / low). A categorical clustering feature's trait is its most
    over-represented level, worded from shares ("Gold membership tier (78% vs 30% overall)").
    segment_name_overrides (keyed by stable segment id)
    replaces generated names, so a name marketing chose survives retrains.
-#}

with

fit as (
    select * from {{ ref('int_segment_fit') }}
),

wording as (
    select * from {{ feature_catalogue_rows() }} as catalogue
),

overrides as (
    select * from {{ ref('segment_name_overrides') }}
),

fit_centroids as (
    select * from {{ ref('int_segment_fit_centroids') }}
),

scaler_unit as (
    select case when scaler = 'robust' then 'IQR' else 'SD' end as unit
    from fit
),

fit_level_centroids as (
    select * from {{ ref('int_segment_fit_level_centroids') }}
),

fit_levels as (
    select * from {{ ref('int_segment_fit_levels') }}
),

centroids as (
    select
        segment_id,
        feature,
        centroid_scaled as scaled_value
    from fit_centroids
),

numeric_traits as (
    select
        centroids.segment_id,
        centroids.feature,
        centroids.scaled_value,
        case
            when centroids.scaled_value > 0
                then coalesce(wording.high_label, 'high ' || centroids.feature)
            else coalesce(wording.low_label, 'low ' || centroids.feature)
        end as trait_label,
        centroids.feature
        || case when centroids.scaled_value > 0 then ' +' else ' ' end
        || cast(round(centroids.scaled_value, 1) as {{ dbt.type_string() }})
        || ' ' || scaler_unit.unit as trait
    from centroids
    cross join scaler_unit
    left join wording on centroids.feature = wording.feature
),

level_shares as (
    -- The segment's share of each level: the centroid on its indicator, unscaled.
    select
        fit_level_centroids.segment_id,
        fit_level_centroids.feature,
        fit_level_centroids.level,
        fit_level_centroids.centroid_scaled as scaled_value,
        fit_level_centroids.centroid_scaled * fit_levels.scaler_scale + fit_levels.scaler_center
            as segment_share,
        fit_levels.fit_share,
        row_number() over (
            partition by fit_level_centroids.segment_id, fit_level_centroids.feature
            order by fit_level_centroids.centroid_scaled desc, fit_levels.level_order asc
        ) as level_rank
    from fit_level_centroids
    inner join fit_levels
        on
            fit_level_centroids.feature = fit_levels.feature
            and fit_level_centroids.level = fit_levels.level
),

level_traits as (
    -- A categorical feature's trait: its most over-represented level in the segment.
    select
        segment_id,
        feature,
        scaled_value,
        level || ' ' || replace(feature, '_', ' ') as trait_label,
        cast(cast(round(100 * segment_share) as integer) as {{ dbt.type_string() }})
        || '% vs '
        || cast(cast(round(100 * fit_share) as integer) as {{ dbt.type_string() }})
        || '% overall' as trait
    from level_shares
    where level_rank = 1 and scaled_value > 0
),

candidates as (
    select
        segment_id,
        feature,
        scaled_value,
        trait_label,
        trait
    from numeric_traits
    union all
    select
        segment_id,
        feature,
        scaled_value,
        trait_label,
        trait
    from level_traits
),

ranked as (
    select
        segment_id,
        feature,
        scaled_value,
        trait_label,
        trait,
        row_number() over (
            partition by segment_id
            order by abs(scaled_value) desc, feature
        ) as trait_rank
    from candidates
),

traits as (
    select
        segment_id,
        trait_rank,
        trait_label,
        trait
    from ranked
    where trait_rank <= 3 and abs(scaled_value) >= 0.5
),

pivoted as (
    select
        segments.segment_id,
        max(case when traits.trait_rank = 1 then traits.trait_label end) as label_1,
        max(case when traits.trait_rank = 2 then traits.trait_label end) as label_2,
        max(case when traits.trait_rank = 3 then traits.trait_label end) as label_3,
        max(case when traits.trait_rank = 1 then traits.trait_label || ' (' || traits.trait || ')' end)
            as trait_1,
        max(case when traits.trait_rank = 2 then traits.trait_label || ' (' || traits.trait || ')' end)
            as trait_2,
        max(case when traits.trait_rank = 3 then traits.trait_label || ' (' || traits.trait || ')' end)
            as trait_3
    from (
        select segment_id from centroids
        union
        select segment_id from fit_level_centroids
    ) as segments
    left join traits on segments.segment_id = traits.segment_id
    group by segments.segment_id
),

generated as (
    select
        segment_id,
        case
            when label_1 is null then 'Average profile'
            else upper(substr(concat_ws(' · ', label_1, label_2, label_3), 1, 1))
                || substr(concat_ws(' · ', label_1, label_2, label_3), 2)
        end as base_name,
        case
            when label_1 is null
                then 'Close to the average customer on every clustering feature.'
            else 'Compared with the average customer: '
                || concat_ws(', ', trait_1, trait_2, trait_3) || '.'
        end as generated_description,
        concat_ws('; ', trait_1, trait_2, trait_3) as traits
    from pivoted
),

deduplicated as (
    select
        segment_id,
        case
            when count(*) over (partition by base_name) > 1
                then base_name || ' (segment ' || cast(segment_id as {{ dbt.type_string() }}) || ')'
            else base_name
        end as generated_name,
        generated_description,
        traits
    from generated
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
        deduplicated.traits
    from deduplicated
    left join overrides on deduplicated.segment_id = overrides.segment_id
)

select * from named
