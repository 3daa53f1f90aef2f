{% macro build_summary(results) %}
    {#-
        on-run-end: what this build did with the inputs, in a few console lines - per input the
        raw rows, the accepted ones and the rejected ones by reason (data_quality_summary), and
        the fit's warnings (segment_runs, latest run). Printed only when this invocation built
        those models; a build that accepted 6 of 9 customers says so at the end, not only in a
        table.
    -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set built = {} -%}
    {%- for result in results if result.node.resource_type == 'model' and result.status == 'success' -%}
        {%- do built.update({result.node.name: result.node}) -%}
    {%- endfor -%}
    {%- if 'data_quality_summary' in built -%}
        {%- set quality = run_query(
            "select source, coalesce(reason, '') as reason, rows from "
            ~ _built_relation(built['data_quality_summary']) ~ " order by source, reason is not null, rows desc, reason"
        ) -%}
        {%- set lines = ['Inputs (raw rows: accepted, rejected by reason; stg_rejects holds them):'] -%}
        {%- set by_source = {} -%}
        {%- for row in quality.rows -%}
            {%- do by_source.setdefault(row[0], []).append(row) -%}
        {%- endfor -%}
        {%- for source, rows in by_source.items() -%}
            {%- set ns = namespace(total=0, accepted=0, rejected=[]) -%}
            {%- for row in rows -%}
                {%- set ns.total = ns.total + row[2] -%}
                {%- if row[1] == '' -%}
                    {%- set ns.accepted = row[2] -%}
                {%- else -%}
                    {%- do ns.rejected.append(row[1] ~ ' ' ~ row[2]) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do lines.append(
                '  ' ~ source ~ ': ' ~ ns.total ~ ' raw, ' ~ ns.accepted ~ ' accepted'
                ~ (', rejected: ' ~ (ns.rejected | join(', ')) if ns.rejected else '')) -%}
        {%- endfor -%}
        {%- if 'segment_runs' in built -%}
            {%- set fit = run_query(
                "select run_number, chosen_k, customers, warnings from "
                ~ _built_relation(built['segment_runs'])
                ~ " where is_latest"
            ) -%}
            {%- for row in fit.rows -%}
                {%- do lines.append(
                    'Fit: run ' ~ row[0] ~ ', ' ~ row[1] ~ ' segments of ' ~ row[2]
                    ~ ' customers' ~ ('; warnings: ' ~ row[3] if row[3] else ', no warnings')) -%}
            {%- endfor -%}
        {%- endif -%}
        {{ log(lines | join('\n'), info=True) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}


{% macro _built_relation(node) %}
    {#- The relation a node of this run's results built (a hook can not ref() conditionally). -#}
    {{- return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) -}}
{% endmacro %}
