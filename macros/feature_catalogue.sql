{#-
    The feature catalogue (var feature_catalogue in dbt_project.yml, plus the extra numeric
    customer attributes of the input, described or not in var extra_features): the one place
    that says, for each numeric feature, where it comes from, how it is prepared, whether it is
    clustered on by default and how it is worded. Every macro below reads it; no model keeps
    its own list of feature names. The categorical features are the customers' text
    attributes, the extra text columns of the input included (categorical_attributes).
-#}

{% macro feature_catalogue() %}
    {#-
        Feature name -> entry with every field filled: source, when_no_purchases, transform,
        impute, default, label, high, low. The catalogue's features first, in its order, then
        the extra customer attributes in input order (catalogue_entry fills and checks each).
        A var that is gone stops the build here too (`dbt compile` runs no on-run-start).
    -#}
    {%- do check_retired_vars() -%}
    {%- set entries = {} -%}
    {%- for name, entry in var('feature_catalogue').items() -%}
        {%- do entries.update({name: entry}) -%}
    {%- endfor -%}
    {%- set extras = extra_numeric_columns() -%}
    {%- set described = extra_features_setting() -%}
    {%- for name in extras -%}
        {%- do entries.update({name: dict({'source': 'stg_customers'}, **described.get(name, {}))}) -%}
    {%- endfor -%}
    {#- A unit test sees no input, so it has no extra columns to check the var against. -#}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- do check_extra_features(extras, 'numeric') -%}
    {%- endif -%}

    {%- set catalogue = {} -%}
    {%- for name, entry in entries.items() -%}
        {%- do catalogue.update({name: catalogue_entry(name, entry)}) -%}
    {%- endfor -%}
    {{ return(catalogue) }}
{% endmacro %}


{% macro catalogue_entry(name, entry) %}
    {#-
        A feature's catalogue entry with every field filled (defaults below; a feature without
        a label is labelled by its name: 'loyalty_points' -> 'Loyalty points'). An unknown
        field or value stops the build naming it; on-run-start checks every entry this way
        (check_settings) before any model builds.
    -#}
    {%- set defaults = {
        'source': none, 'when_no_purchases': none, 'transform': 'none', 'impute': 'median',
        'default': false, 'label': none, 'high': none, 'low': none,
    } -%}
    {%- for field in entry if field not in defaults -%}
        {%- do stop_build(
            "feature '" ~ name ~ "': unknown field '" ~ field ~ "' (fields: "
            ~ (defaults.keys() | join(', ')) ~ ").") -%}
    {%- endfor -%}
    {%- set filled = dict(defaults, **entry) -%}
    {%- if filled.label is none -%}
        {%- do filled.update({'label': name.replace('_', ' ') | capitalize}) -%}
    {%- endif -%}
    {%- if filled.transform not in ['none', 'log1p'] -%}
        {%- do stop_build(
            "feature '" ~ name ~ "': transform must be none or log1p, not '"
            ~ filled.transform ~ "'.") -%}
    {%- endif -%}
    {%- if filled.impute not in ['median', 'upper_bound'] -%}
        {%- do stop_build(
            "feature '" ~ name ~ "': impute must be median or upper_bound, not '"
            ~ filled.impute ~ "'.") -%}
    {%- endif -%}
    {{ return(filled) }}
{% endmacro %}


{% macro extra_features_setting() %}
    {#- Var extra_features with its names normalised as input headers are ('Spending Score'). -#}
    {%- set described = {} -%}
    {%- for name, entry in (var('extra_features', none) or {}).items() -%}
        {%- do described.update({normalise_column_name(name): entry}) -%}
    {%- endfor -%}
    {{ return(described) }}
{% endmacro %}


{% macro check_extra_features(extras, kind=none) %}
    {#-
        Stops the build when var extra_features names a column that is not one of `extras`:
        at the start of a build the extra columns of the customers input (check_settings),
        later the `kind` ('numeric') ones staging typed (feature_catalogue).
    -#}
    {%- for name in extra_features_setting() if name not in extras -%}
        {%- do stop_build(
            "var extra_features names '" ~ name ~ "', which is not an extra "
            ~ (kind ~ " " if kind else "") ~ "column of the customers input (those are: "
            ~ (extras | join(', ') or 'none') ~ ").") -%}
    {%- endfor -%}
{% endmacro %}


{% macro numeric_feature_columns() %}
    {#- Every numeric feature of int_customer_features, in catalogue order. -#}
    {{ return(feature_catalogue().keys() | list) }}
{% endmacro %}


{% macro features_from(source) %}
    {#- The catalogue's features that the model named `source` defines. -#}
    {%- set names = [] -%}
    {%- for name, entry in feature_catalogue().items() if entry.source == source -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}


{% macro log_transform_features() %}
    {#- Features clustered (and histogrammed) on log(1 + x). -#}
    {%- set names = [] -%}
    {%- for name, entry in feature_catalogue().items() if entry.transform == 'log1p' -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}


{% macro default_segmentation_features() %}
    {#- The catalogue's default set, what K-means sees unless var segmentation_features says. -#}
    {%- set names = [] -%}
    {%- for name, entry in feature_catalogue().items() if entry.default -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}


{% macro segmentation_features() %}
    {#-
        The features K-means is asked to cluster on, in order: var segmentation_features, its
        names normalised as input headers are ('Spending Score' is spending_score), else the
        catalogue's default set (to which the fit adds every usable numeric customer attribute
        when no purchase feature of it is usable: custseg.run.with_attribute_fallback).
    -#}
    {%- set names = [] -%}
    {%- for name in var('segmentation_features', none) or default_segmentation_features() -%}
        {%- do names.append(normalise_column_name(name)) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}


{% macro categorical_attributes() %}
    {#-
        The text and boolean customer attributes of int_customer_features that can be listed
        in var segmentation_features as categorical features (README, "Categorical features"):
        the input contract's, then the extra text columns of the customers input as staged
        (extra_text_columns: those with few distinct values, categorical_levels_rule), as the
        extra numeric columns join the numeric features.
    -#}
    {{ return(contract_categorical_attributes() + extra_text_columns()) }}
{% endmacro %}


{% macro contract_categorical_attributes() %}
    {#- The text and boolean customer attributes of the input contract (has_email: from email). -#}
    {{ return(['gender', 'city', 'membership_tier', 'has_email']) }}
{% endmacro %}


{% macro categorical_segmentation_features() %}
    {#- The categorical features K-means is asked to cluster on, in the order asked. -#}
    {%- set names = [] -%}
    {%- for name in segmentation_features() if name in categorical_attributes() -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}


{% macro feature_catalogue_rows() %}
    {#-
        The catalogue as a subquery, one row per feature: feature, feature_order (1, 2, ...),
        source_model, transform, impute_strategy, is_default_feature, feature_label,
        high_label, low_label (null where the catalogue has no wording).
    -#}
    {%- set text = dbt.type_string() -%}
    (
        {%- for name, entry in feature_catalogue().items() %}
        select
            cast({{ sql_string(name) }} as {{ text }}) as feature,
            {{ loop.index }} as feature_order,
            cast({{ sql_string(entry.source) }} as {{ text }}) as source_model,
            cast({{ sql_string(entry.transform) }} as {{ text }}) as transform,
            cast({{ sql_string(entry.impute) }} as {{ text }}) as impute_strategy,
            {{ 'true' if entry.default else 'false' }} as is_default_feature,
            cast({{ sql_string(entry.label) }} as {{ text }}) as feature_label,
            cast({{ 'null' if entry.high is none else sql_string(entry.high) }} as {{ text }})
                as high_label,
            cast({{ 'null' if entry.low is none else sql_string(entry.low) }} as {{ text }})
                as low_label
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    )
{% endmacro %}
