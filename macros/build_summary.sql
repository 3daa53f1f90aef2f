{% macro build_summary(results) %}
    {#-
        on-run-end: what this build did with the inputs, in a few console lines - per input the
        raw rows, the accepted ones and the rejected ones by reason (data_quality_summary), the
        latest run (segment_runs): a fit or a scoring with the latest fit, why, and its warnings
        (or the reason it failed), and the nodes that failed, as many as dbt's ERROR= counts.
        Printed only when this invocation built those models; a build that accepted 6 of 9
        customers says so at the end, not only in a table.
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
            {%- set latest = run_query(
                "select run_number, run_type, reason, fit_run_number, chosen_k, customers, "
                ~ "warnings, drifted_checks, error from " ~ _built_relation(built['segment_runs'])
                ~ " where is_latest_run"
            ) -%}
            {%- for row in latest.rows -%}
                {%- if row[8] -%}
                    {%- do lines.append(
                        ('Fit: run ' ~ row[0] ~ ' could not fit: ' if row[1] == 'fit'
                         else 'Score: run ' ~ row[0] ~ ' could not score: ') ~ row[8]) -%}
                {%- elif row[1] == 'fit' -%}
                    {%- do lines.append(
                        'Fit: run ' ~ row[0] ~ ', ' ~ row[4] ~ ' segments of ' ~ row[5]
                        ~ ' customers' ~ ('; warnings: ' ~ row[6] if row[6] else ', no warnings')) -%}
                {%- else -%}
                    {%- do lines.append(
                        'Score: run ' ~ row[0] ~ ' scored ' ~ row[5] ~ ' customers with fit '
                        ~ row[3] ~ ('; warnings: ' ~ row[6] if row[6] else '')) -%}
                {%- endif -%}
                {%- if not row[8] -%}
                    {%- do lines.append('  why: ' ~ row[2] ~ (' (drift checks over their threshold: '
                        ~ row[7] ~ ', see segment_drift)' if row[7] else '')) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
        {#- The statuses dbt's ERROR= counts (an error, a failed test, a partial success). -#}
        {%- set failed = [] -%}
        {%- for result in results if result.status in ['error', 'fail', 'partial success'] -%}
            {%- do failed.append(result.node.name) -%}
        {%- endfor -%}
        {%- if failed -%}
            {%- do lines.append(failed | length ~ ' error' ~ ('s' if failed | length > 1 else '')
                ~ ': ' ~ failed | join(', ')) -%}
        {%- endif -%}
        {{ log(lines | join('\n'), info=True) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}


{% macro _built_relation(node) %}
    {#- The relation a node of this run's results built (a hook can not ref() conditionally). -#}
    {{- return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) -}}
{% endmacro %}
