{#-
    Every fit's segments described by their most distinctive features: per fit run and
    segment, up to three traits - a numeric feature whose scaled centroid is at least 0.5 SD
    (IQR with the robust scaler) from the average customer, worded by the feature catalogue's
    high / low, or a categorical feature's most over-represented level ("gold membership tier
    (78% vs 30% overall)") - the generated name and description they make, and the set of
    trait labels (order aside), which int_segment_names compares between fits to keep a
    segment's name while its traits stay the same.
-#}

with

history as (
    select * from {{ ref('segment_model') }}
),

wording as (
    select * from {{ feature_catalogue_rows() }} as catalogue
),

fits as (
    select * from history
    where run_type = 'fit' and error is null
),

fit_segments as (
    select
        fits.run_number,
        {{ unnest_structs('fits.segments') }}
    from fits
),

fit_centroids as (
    select
        fits.run_number,
        {{ unnest_structs('fits.centroids') }}
    from fits
),

fit_levels as (
    select
        fits.run_number,
        {{ unnest_structs('fits.levels') }}
    from fits
),

fit_level_centroids as (
    select
        fits.run_number,
        {{ unnest_structs('fits.level_centroids') }}
    from fits
),

scaler_units as (
    select
        run_number,
        case when scaler = 'robust' then 'IQR' else 'SD' end as unit
    from fits
),

numeric_traits as (
    select
        fit_centroids.run_number,
        fit_centroids.segment_id,
        fit_centroids.feature,
        fit_centroids.centroid_scaled as scaled_value,
        case
            when fit_centroids.centroid_scaled > 0
                then coalesce(wording.high_label, 'high ' || fit_centroids.feature)
            else coalesce(wording.low_label, 'low ' || fit_centroids.feature)
        end as trait_label,
        fit_centroids.feature
        || case when fit_centroids.centroid_scaled > 0 then ' +' else ' ' end
        || cast(round(fit_centroids.centroid_scaled, 1) as {{ dbt.type_string() }})
        || ' ' || scaler_units.unit as trait
    from fit_centroids
    inner join scaler_units on fit_centroids.run_number = scaler_units.run_number
    left join wording on fit_centroids.feature = wording.feature
),

level_shares as (
    -- The segment's share of each level: the centroid on its indicator, unscaled.
    select
        fit_level_centroids.run_number,
        fit_level_centroids.segment_id,
        fit_level_centroids.feature,
        fit_level_centroids.level,
        fit_level_centroids.centroid_scaled as scaled_value,
        fit_level_centroids.centroid_scaled * fit_levels.scaler_scale + fit_levels.scaler_center
            as segment_share,
        fit_levels.fit_share,
        row_number() over (
            partition by
                fit_level_centroids.run_number,
                fit_level_centroids.segment_id,
                fit_level_centroids.feature
            order by fit_level_centroids.centroid_scaled desc, fit_levels.level_order asc
        ) as level_rank
    from fit_level_centroids
    inner join fit_levels
        on
            fit_level_centroids.run_number = fit_levels.run_number
            and fit_level_centroids.feature = fit_levels.feature
            and fit_level_centroids.level = fit_levels.level
),

level_traits as (
    -- A categorical feature's trait: its most over-represented level in the segment.
    select
        run_number,
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
        run_number,
        segment_id,
        feature,
        scaled_value,
        trait_label,
        trait
    from numeric_traits
    union all
    select
        run_number,
        segment_id,
        feature,
        scaled_value,
        trait_label,
        trait
    from level_traits
),

ranked as (
    select
        run_number,
        segment_id,
        feature,
        scaled_value,
        trait_label,
        trait,
        row_number() over (
            partition by run_number, segment_id
            order by abs(scaled_value) desc, feature
        ) as trait_rank
    from candidates
),

traits as (
    select
        run_number,
        segment_id,
        trait_rank,
        trait_label,
        trait
    from ranked
    where trait_rank <= 3 and abs(scaled_value) >= 0.5
),

pivoted as (
    select
        fit_segments.run_number,
        fit_segments.segment_id,
        max(case when traits.trait_rank = 1 then traits.trait_label end) as label_1,
        max(case when traits.trait_rank = 2 then traits.trait_label end) as label_2,
        max(case when traits.trait_rank = 3 then traits.trait_label end) as label_3,
        max(case when traits.trait_rank = 1 then traits.trait_label || ' (' || traits.trait || ')' end)
            as trait_1,
        max(case when traits.trait_rank = 2 then traits.trait_label || ' (' || traits.trait || ')' end)
            as trait_2,
        max(case when traits.trait_rank = 3 then traits.trait_label || ' (' || traits.trait || ')' end)
            as trait_3,
        coalesce({{ ordered_listagg('traits.trait_label', "' | '", 'traits.trait_label') }}, '')
            as trait_set
    from fit_segments
    left join traits
        on
            fit_segments.run_number = traits.run_number
            and fit_segments.segment_id = traits.segment_id
    where fit_segments.status != 'retired'
    group by fit_segments.run_number, fit_segments.segment_id
),

described as (
    select
        run_number,
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
        concat_ws('; ', trait_1, trait_2, trait_3) as traits,
        trait_set
    from pivoted
)

select * from described
