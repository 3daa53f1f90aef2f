{#-
    Scoring in SQL, as a SQL user would: assign_segment works on any relation that has
    customer_id and the feature columns of int_customer_features (a table of new customers,
    a what-if copy...). Here: the customers closest to a second segment, who are the first to
    move when behaviour changes. Compile with `dbt compile --select borderline_customers`.
-#}

with

scored as (
    select * from {{ assign_segment(ref('int_customer_features')) }}
)

select
    customer_id,
    segment_id,
    second_segment_id,
    distance_to_centroid,
    margin_to_second
from scored
order by margin_to_second asc, customer_id asc
limit 20
