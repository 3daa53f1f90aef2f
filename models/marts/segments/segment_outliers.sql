{#-
    The customers farther from their segment's centroid than the segment's outlier distance
    (dim_customer_segments.is_outlier: at fit time var outlier_fraction of each segment's
    customers were), one row each, with the features that make them far: each clustering
    feature's share of the squared distance, the largest three named with how far the customer
    sits from the centroid on it (scaled units, SD - IQR with the robust scaler; a
    categorical feature by the customer's level). Outliers keep their segment.
-#}
{%- set features = numeric_feature_columns() -%}
{%- set levels = fit_levels() -%}

with

features as (
    select * from {{ ref('int_customer_features') }}
),

assignments as (
    select * from {{ ref('int_customer_segments') }}
),

segments as (
    select * from {{ ref('dim_segments') }}
),

fit as (
    select * from {{ ref('int_segment_fit') }}
),

parameters as (
    select * from {{ scoring_parameter_row() }} as parameter_row
),

centroids as (
    -- One row per segment: its centroid on each numeric feature (null when not clustered on)
    -- and each categorical level, in the fit's scaled units.
    select {{ unnest_structs('parameters.centroids') }}
    from parameters
),

outliers as (
    select
        assignments.customer_id,
        assignments.segment_id,
        assignments.distance_to_centroid,
        assignments.outlier_score
    from assignments
    where assignments.is_outlier
),

outlier_features as (
    select features.*
    from features
    inner join outliers on features.customer_id = outliers.customer_id
),

scaled as (
    select * from {{ scale_features('outlier_features') }} as scaled_features
),

numeric_terms as (
    {%- for feature in features %}
        select
            scaled.customer_id,
            '{{ feature }}' as feature,
            scaled.{{ feature }} - centroids.{{ feature }} as difference,
            (scaled.{{ feature }} - centroids.{{ feature }})
            * (scaled.{{ feature }} - centroids.{{ feature }}) as squared_difference
        from scaled
        inner join outliers on scaled.customer_id = outliers.customer_id
        inner join centroids on outliers.segment_id = centroids.segment_id
        where centroids.{{ feature }} is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),
{%- if levels %}

level_terms as (
    {%- for feature, level, is_other in levels %}
        select
            scaled.customer_id,
            {{ sql_string(feature) }} as feature,
            (scaled.level__{{ loop.index }} - centroids.level__{{ loop.index }})
            * (scaled.level__{{ loop.index }} - centroids.level__{{ loop.index }})
                as squared_difference
        from scaled
        inner join outliers on scaled.customer_id = outliers.customer_id
        inner join centroids on outliers.segment_id = centroids.segment_id
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

categorical_terms as (
    -- A categorical feature is one term: its levels' squared differences summed.
    select
        level_terms.customer_id,
        level_terms.feature,
        sum(level_terms.squared_difference) as squared_difference
    from level_terms
    group by level_terms.customer_id, level_terms.feature
),

categorical_values as (
    {%- for feature in levels | map(attribute=0) | unique %}
        select
            customer_id,
            '{{ feature }}' as feature,
            {{ categorical_value(feature) }} as level_text
        from outlier_features
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),
{%- endif %}

terms as (
    select
        numeric_terms.customer_id,
        numeric_terms.feature,
        numeric_terms.squared_difference,
        numeric_terms.feature
        || case when numeric_terms.difference > 0 then ' +' else ' ' end
        || cast(round(numeric_terms.difference, 1) as {{ dbt.type_string() }})
        || case when fit.scaler = 'robust' then ' IQR' else ' SD' end as description
    from numeric_terms
    cross join fit
    {%- if levels %}
    union all
    select
        categorical_terms.customer_id,
        categorical_terms.feature,
        categorical_terms.squared_difference,
        categorical_terms.feature || ' ' || categorical_values.level_text as description
    from categorical_terms
    inner join categorical_values
        on
            categorical_terms.customer_id = categorical_values.customer_id
            and categorical_terms.feature = categorical_values.feature
    {%- endif %}
),

ranked as (
    select
        customer_id,
        feature,
        description,
        squared_difference / nullif(sum(squared_difference) over (partition by customer_id), 0)
            as distance_share,
        row_number() over (
            partition by customer_id order by squared_difference desc, feature asc
        ) as term_rank
    from terms
),

far_features as (
    select
        customer_id,
        max(case when term_rank = 1 then feature end) as farthest_feature,
        max(case when term_rank = 1 then distance_share end) as farthest_feature_share,
        {{ ordered_listagg('description', "'; '", 'term_rank') }} as far_features
    from ranked
    where term_rank <= 3
    group by customer_id
),

listed as (
    select
        outliers.customer_id,
        outliers.segment_id,
        segments.segment_name,
        outliers.distance_to_centroid,
        outliers.outlier_score,
        far_features.farthest_feature,
        far_features.farthest_feature_share,
        far_features.far_features
    from outliers
    inner join segments on outliers.segment_id = segments.segment_id
    left join far_features on outliers.customer_id = far_features.customer_id
)

select * from listed
