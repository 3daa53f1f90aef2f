{% macro check_target_vars() %}
    {#-
        The vars of analyses/campaign_targets.sql, normalised as staging normalises the data
        and checked against the build: {offer_type, segment_id}. target_offer_type goes through
        to_code (' Discount ' is discount); a target_offer_type no campaign of the build has,
        or a target_segment_id that is not a segment of dim_segments, stops the compilation
        naming the valid values (instead of an empty list with no word).
    -#}
    {%- set offer_response = ref('segment_offer_response') -%}
    {%- set segments = ref('dim_segments') -%}
    {%- set raw_offer_type = var('target_offer_type') -%}
    {%- set raw_segment_id = var('target_segment_id') -%}
    {%- if not execute -%}
        {{ return({'offer_type': raw_offer_type, 'segment_id': raw_segment_id}) }}
    {%- endif -%}
    {%- set offer_type = run_query(
        'select ' ~ to_code(sql_string(raw_offer_type | string)) ~ ' as offer_type'
    ).columns[0].values()[0] -%}
    {%- set offer_types = run_query(
        'select distinct offer_type from ' ~ offer_response ~ ' order by offer_type'
    ).columns[0].values() | list -%}
    {%- set segment_ids = run_query(
        'select segment_id from ' ~ segments ~ ' order by segment_id'
    ).columns[0].values() | map('int') | list -%}
    {%- set segment_id = none -%}
    {%- if raw_segment_id is not none -%}
        {%- set segment_text = raw_segment_id | string | trim -%}
        {%- set segment_id = segment_text | int if segment_text.lstrip('-').isdigit() else none -%}
        {%- if segment_id not in segment_ids -%}
            {%- do stop_build(
                'target_segment_id ' ~ raw_segment_id ~ ' is not a segment of this build; '
                ~ 'valid segment ids: ' ~ segment_ids | join(', ')) -%}
        {%- endif -%}
    {%- elif offer_type not in offer_types -%}
        {%- do stop_build(
            'target_offer_type ' ~ raw_offer_type ~ ' (normalised: ' ~ offer_type ~ ') is not '
            ~ 'an offer type of this build\'s campaigns; valid offer types: '
            ~ (offer_types | join(', ') or 'none, no campaign was accepted')) -%}
    {%- endif -%}
    {{ return({'offer_type': offer_type, 'segment_id': segment_id}) }}
{% endmacro %}
