{#-
    The settings, checked before any model builds (on-run-start): a bad scaler or a misspelt
    feature name stops the build in its first second with one line, not after the staging and
    feature models. The rules are the fit's own (custseg.clustering.settings_error: SegmentationConfig
    and the feature names), called through the project's dbt-duckdb plugin; the fit applies
    them again, so nothing the check misses goes through.
-#}

{% macro check_settings() %}
    {#-
        on-run-start of `dbt build` and `dbt run` (`dbt compile` runs no hook; the models
        check what they read): where the inputs are read from (raw_origin), vars that are gone,
        the entries of the feature catalogue and of var extra_features (catalogue_entry), then
        the fit's settings and the feature names (<engine>__check_settings). Logs the vars
        given that the project does not declare.
    -#}
    {%- if execute and flags.WHICH in ['build', 'run'] -%}
        {%- do raw_origin() -%}
        {%- do check_retired_vars() -%}
        {%- for name, entry in var('feature_catalogue').items() -%}
            {%- do catalogue_entry(name, entry) -%}
        {%- endfor -%}
        {%- for name, entry in extra_features_setting().items() -%}
            {%- do catalogue_entry(name, dict({'source': 'stg_customers'}, **entry)) -%}
        {%- endfor -%}
        {%- do adapter.dispatch('check_settings', 'custseg')() -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}


{% macro check_retired_vars() %}
    {#- Vars that are gone stop the build saying where their setting went. -#}
    {%- set retired = {
        'log_transform_features': 'transform: log1p', 'impute_with_upper_bound': 'impute: upper_bound',
    } -%}
    {%- for old_var, field in retired.items() if var(old_var, none) is not none -%}
        {%- do stop_build(
            "var " ~ old_var ~ " is gone: say " ~ field ~ " in the feature's entry of var "
            ~ "feature_catalogue, or of var extra_features for a column of your own file.") -%}
    {%- endfor -%}
{% endmacro %}


{% macro default__check_settings() %}
    {#-
        Spark: no dbt-duckdb plugin to call Python through. `segment build --target spark`
        checks the fit's settings (custseg.clustering.settings_error) before its first dbt step, and
        the fit checks the feature names.
    -#}
{% endmacro %}


{% macro duckdb__check_settings() %}
    {#-
        The fit's settings as segment_model's config renders them (the vars), the columns
        usable as features (the catalogue's, the contract's text and boolean attributes and,
        when a name needs them, the extra columns of the customers input, read from its
        header) and the default set, through custseg_check_settings() (custseg.duckdb_plugin).
    -#}
    {%- set fit = graph.nodes.get('model.' ~ project_name ~ '.segment_model') -%}
    {%- if fit is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set catalogue = var('feature_catalogue') -%}
    {%- set described = extra_features_setting() -%}
    {%- set known = (catalogue.keys() | list) + contract_categorical_attributes() -%}
    {%- set unknown = [] -%}
    {%- for name in var('segmentation_features', none) or []
        if normalise_column_name(name) not in known -%}
        {%- do unknown.append(name) -%}
    {%- endfor -%}
    {%- if unknown or described -%}
        {%- set extras = input_extra_columns() -%}
        {%- do check_extra_features(extras) -%}
        {%- set known = known + extras -%}
    {%- endif -%}
    {%- set defaults = [] -%}
    {%- for name, entry in catalogue.items() if entry.default -%}
        {%- do defaults.append(name) -%}
    {%- endfor -%}
    {%- for name, entry in described.items() if entry.default -%}
        {%- do defaults.append(name) -%}
    {%- endfor -%}
    {%- set checked = fromjson(run_query(
        'select custseg_check_settings(' ~ sql_string(fit.config.segmentation) ~ ', '
        ~ sql_string(tojson(known)) ~ ', ' ~ sql_string(tojson(defaults)) ~ ')').rows[0][0]) -%}
    {%- for warning in checked.warnings -%}
        {%- do log('Settings: ' ~ warning, info=True) -%}
    {%- endfor -%}
    {%- if checked.error -%}
        {%- do stop_build(checked.error) -%}
    {%- endif -%}
{% endmacro %}
