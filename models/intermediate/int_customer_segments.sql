{#-
    Every customer scored against the latest fit in SQL (macro assign_segment): its segment,
    the distance to that centroid, and the second-nearest segment with the margin to it. Keyed
    by the real customer id, so models can join it to transactions and contacts;
    dim_customer_segments is what others see.
-#}

with

assignments as (
    select * from {{ assign_segment(ref('int_customer_features')) }}
)

select * from assignments
