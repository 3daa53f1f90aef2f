{#-
    The clustering input: every numeric feature imputed, winsorized and log-transformed as
    int_feature_bounds says (macro prepare_features, shared with assign_segment).
-#}

with

prepared as (
    select * from {{ prepare_features(ref('int_customer_features')) }}
)

select * from prepared
