{#-
    Pearson correlations between the clustering features, in long form: every ordered pair
    (feature_a, feature_b) including both orders and the diagonal, so a BI tool draws the full
    heatmap; filter feature_a < feature_b for each pair once. `correlation` is on the features'
    own values over the customers with both values; `correlation_prepared` is on what K-means
    saw (imputed, winsorized, log1p where configured), over all customers. Highly correlated
    clustering features weigh the same behaviour twice.
-#}
{#- The numeric features var segmentation_features names; without it every numeric feature,
    as the fit may add the customer attributes to the default set (custseg.run). The join to
    the fit's features keeps the clustering ones. -#}
{%- set numeric_features = numeric_feature_columns() -%}
{%- set candidates = [] -%}
{%- for feature in (segmentation_features() if var('segmentation_features', none) is not none
    else numeric_features) if feature in numeric_features -%}
    {%- do candidates.append(feature) -%}
{%- endfor -%}

with

features as (
    select * from {{ ref('int_customer_features') }}
),

prepared as (
    select * from {{ ref('int_customer_features_prepared') }}
),

fit_features as (
    select * from {{ ref('int_segment_fit_features') }}
),

clustering_features as (
    select feature from fit_features
    where is_used
),

pair_statistics as (
    -- One row, one scan: every unordered pair (the diagonal included) side by side.
    select
        {%- for feature_a in candidates %}
            {%- for feature_b in candidates if feature_b >= feature_a %}
                corr(
                    cast(features.{{ feature_a }} as double),
                    cast(features.{{ feature_b }} as double)
                ) as corr__{{ feature_a }}__{{ feature_b }},
                corr(
                    cast(prepared.{{ feature_a }} as double),
                    cast(prepared.{{ feature_b }} as double)
                ) as corr_prepared__{{ feature_a }}__{{ feature_b }},
                count(
                    case
                        when
                            features.{{ feature_a }} is not null
                            and features.{{ feature_b }} is not null
                            then 1
                    end
                ) as pairs__{{ feature_a }}__{{ feature_b }},
            {%- endfor %}
        {%- endfor %}
        count(*) as customers
    from features
    inner join prepared on features.customer_id = prepared.customer_id
),

long_pairs as (
    {%- for feature_a in candidates %}
        {%- set outer_last = loop.last %}
        {%- for feature_b in candidates %}
            {%- set low = [feature_a, feature_b] | min %}
            {%- set high = [feature_a, feature_b] | max %}
            select
                '{{ feature_a }}' as feature_a,
                '{{ feature_b }}' as feature_b,
                corr__{{ low }}__{{ high }} as correlation, -- noqa: RF04
                corr_prepared__{{ low }}__{{ high }} as correlation_prepared,
                pairs__{{ low }}__{{ high }} as customers
            from pair_statistics
            {%- if not (outer_last and loop.last) %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- else %}
        -- A fit on categorical features only: no numeric pair to correlate.
        select
            cast(null as {{ dbt.type_string() }}) as feature_a,
            cast(null as {{ dbt.type_string() }}) as feature_b,
            cast(null as double) as correlation,
            cast(null as double) as correlation_prepared,
            customers
        from pair_statistics
        where false
    {%- endfor %}
),

clustering_pairs as (
    select
        long_pairs.feature_a,
        long_pairs.feature_b,
        -- Rounding can put a perfect correlation a hair outside [-1, 1].
        least(greatest(long_pairs.correlation, -1.0), 1.0) as correlation, -- noqa: RF04
        least(greatest(long_pairs.correlation_prepared, -1.0), 1.0) as correlation_prepared,
        long_pairs.customers
    from long_pairs
    inner join clustering_features as clustering_a
        on long_pairs.feature_a = clustering_a.feature
    inner join clustering_features as clustering_b
        on long_pairs.feature_b = clustering_b.feature
)

select * from clustering_pairs
