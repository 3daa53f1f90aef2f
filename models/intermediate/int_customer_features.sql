{#-
    One feature row per accepted customer: attributes, bands, purchase behaviour and RFM scores.
    Customers without a completed order have frequency, monetary and category_diversity 0 and
    null recency, order value, basket, discount share and return rate (imputed later, in
    int_customer_features_prepared, for clustering only).
-#}
{%- set extras = extra_numeric_columns() -%}

with

attributes as (
    select * from {{ ref('int_customer_attributes_banded') }}
),

purchases as (
    select * from {{ ref('int_transactions_aggregated_to_customers') }}
),

rfm as (
    select * from {{ ref('int_customer_rfm_scores') }}
),

joined as (
    select
        attributes.customer_id,
        attributes.signup_date,
        attributes.tenure_days,
        attributes.age,
        attributes.age_band,
        attributes.annual_income,
        attributes.income_band,
        attributes.gender,
        attributes.city,
        attributes.membership_tier,
        {%- for column in extras %}
            attributes.{{ column }},
        {%- endfor %}
        attributes.has_email,
        coalesce(purchases.frequency > 0, false) as has_purchases,
        purchases.first_purchase_at,
        purchases.last_purchase_at,
        purchases.recency_days,
        coalesce(purchases.frequency, 0) as frequency,
        coalesce(purchases.returned_orders, 0) as returned_orders,
        coalesce(purchases.monetary, 0) as monetary,
        purchases.avg_order_value,
        purchases.avg_basket_quantity,
        purchases.discount_share,
        purchases.return_rate,
        coalesce(purchases.category_diversity, 0) as category_diversity,
        purchases.preferred_channel,
        purchases.preferred_category,
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        rfm.rfm_score
    from attributes
    left join purchases on attributes.customer_id = purchases.customer_id
    left join rfm on attributes.customer_id = rfm.customer_id
)

select * from joined
