{#-
    One feature row per accepted customer: attributes, bands, purchase behaviour and RFM scores.
    The numeric features come from the model the feature catalogue names as their source, in
    catalogue order; a customer without a completed order gets the catalogue's
    when_no_purchases value (0 for counts and spend) or null (imputed later, in
    int_customer_features_prepared, for clustering only). The text attributes - the contract's
    and the extra text columns of the input - are the categorical features
    (categorical_attributes).
-#}
{%- set catalogue = feature_catalogue() -%}
{%- set sources = {
    'int_customer_attributes_banded': 'attributes',
    'stg_customers': 'attributes',
    'int_transactions_aggregated_to_customers': 'purchases',
} -%}
{#- purchases: int_customer_rfm_scores carries every purchase aggregate beside the scores. -#}

with

attributes as (
    select * from {{ ref('int_customer_attributes_banded') }}
),

purchases as (
    select * from {{ ref('int_customer_rfm_scores') }}
),

joined as (
    select
        attributes.customer_id,
        attributes.signup_date,
        attributes.age_band,
        attributes.income_band,
        attributes.gender,
        attributes.city,
        attributes.membership_tier,
        attributes.has_email,
        {%- for column in extra_text_columns() %}
        attributes.{{ column }},
        {%- endfor %}
        {%- for feature, entry in catalogue.items() %}
            {%- if entry.source not in sources %}
                {%- do stop_build(
                    "feature '" ~ feature ~ "': source must be one of "
                    ~ (sources.keys() | join(', ')) ~ ", not '" ~ entry.source ~ "'.") -%}
            {%- endif %}
            {%- set column = sources[entry.source] ~ '.' ~ feature %}
            {%- if entry.when_no_purchases is none %}
                {{ column }},
            {%- else %}
                coalesce({{ column }}, {{ entry.when_no_purchases }}) as {{ feature }},
            {%- endif %}
        {%- endfor %}
        coalesce(purchases.frequency > 0, false) as has_purchases,
        purchases.first_purchase_at,
        purchases.last_purchase_at,
        coalesce(purchases.returned_orders, 0) as returned_orders,
        purchases.preferred_channel,
        purchases.preferred_category,
        purchases.recency_score,
        purchases.frequency_score,
        purchases.monetary_score,
        purchases.rfm_score
    from attributes
    left join purchases on attributes.customer_id = purchases.customer_id
)

select * from joined
