{#-
    One row per customer: the segment assign_segment puts it in (nearest stored centroid) and
    its name, how close it is and whether it is an outlier of its segment, the classic RFM
    segment beside it, and the features and bands people filter and join on. The numeric
    features are the feature catalogue's; the extra attributes of your customers input, which
    vary with the input, are two typed maps (name to value), so every clustering feature is
    here and the contract still fixes every column. Once built, the same scoring is left in the
    database as the SQL macros predict_segment(f) and predict_segment_detail(f)
    (macros/predict_segment.sql; DuckDB).
-#}
{{ config(post_hook="{{ create_predict_segment_macros() }}") }}

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

rfm_segments as (
    select * from {{ ref('rfm_segments') }}
),

joined as (
    select
        features.customer_id,
        assignments.segment_id,
        segments.segment_name,
        assignments.distance_to_centroid,
        assignments.second_segment_id,
        assignments.margin_to_second,
        assignments.is_outlier,
        assignments.outlier_score,
        features.has_purchases,
        {%- for feature, entry in feature_catalogue().items() if entry.source != 'stg_customers' %}
            features.{{ feature }},
        {%- endfor %}
        features.preferred_channel,
        features.preferred_category,
        features.recency_score,
        features.frequency_score,
        features.monetary_score,
        features.rfm_score,
        coalesce(rfm_segments.rfm_segment, 'No purchases') as rfm_segment,
        features.age_band,
        features.income_band,
        features.gender,
        features.city,
        features.membership_tier,
        features.has_email,
        {{ named_values_map(extra_numeric_columns(), 'features.', 'double') }}
            as extra_numeric_attributes,
        {{ named_values_map(extra_text_columns(), 'features.', dbt.type_string()) }}
            as extra_text_attributes,
        features.signup_date,
        features.first_purchase_at,
        features.last_purchase_at
    from features
    inner join assignments on features.customer_id = assignments.customer_id
    inner join segments on assignments.segment_id = segments.segment_id
    left join rfm_segments
        on
            features.recency_score = rfm_segments.recency_score
            and features.frequency_score = rfm_segments.frequency_score
)

select * from joined
