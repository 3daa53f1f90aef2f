{#-
    Every customer scored against the latest fit in SQL (macro assign_segment, with the fit's
    stored preparation, scaler and centroids): its segment, the distance to that centroid, the
    second-nearest segment with the margin to it, and whether it is an outlier of its segment.
    Keyed by the real customer id, so models can join it to transactions and contacts;
    dim_customer_segments is what others see.
-#}

with

assignments as (
    select * from {{ assign_segment(ref('int_customer_features')) }} as scored
),

final as (
    select
        customer_id,
        segment_id,
        distance_to_centroid,
        second_segment_id,
        margin_to_second,
        outlier_score,
        is_outlier
    from assignments
)

select * from final
