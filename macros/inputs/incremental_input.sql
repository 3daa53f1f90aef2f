{#-
    Incremental validation of an input that grows by deliveries (README, "Daily builds"):
    base_<name> keeps every row it validated with the file (or table) it came from and that
    source's version, and a later build validates only what it has not seen: the new files of
    a directory, or the new rows of a table (seeds or var raw_schema). It can do so only while
    what it validated before would still get the same answer; when not, the build validates
    every row again (input_reset_reason says why, the build log shows it).
-#}

{% macro input_increment(name) %}
    {#-
        What base_<name> validates in this build: {'files': the files to read (a list from
        raw_files; none = the whole input), 'unseen': whether it reads only the rows of a
        table input it does not hold yet (unseen_rows), 'appends': whether the rows are added
        to those earlier builds validated (else every row is validated again: the pre_hook
        clear_for_revalidation empties base_<name> first), 'reset': why every earlier row is
        validated again (none: they stand), 'sources': every source of the input with its
        version}. Outside an incremental build (a first or --full-refresh build, or Spark) the
        whole input. Read once per node (once_per_node): the model and its hooks each ask.
    -#}
    {{ return(once_per_node('input_increment:' ~ name, custseg.input_increment_of, [name])) }}
{% endmacro %}


{% macro input_increment_of(name) %}
    {#- input_increment, decided from the input and {{ this }}. -#}
    {%- set table_input = raw_origin() != 'files' and target.type == 'duckdb' -%}
    {%- set incremental = execute and is_incremental() -%}
    {#- An incremental build versions a table as it compares it (table_changes), not by a scan of its own. -#}
    {%- set sources = input_sources(name, versioned=not (table_input and incremental)) -%}
    {%- set increment = {
        'files': none, 'unseen': false, 'appends': false, 'reset': none, 'sources': sources} -%}
    {%- if incremental -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- if 'validation_version' not in columns -%}
            {%- do stop_build(this ~ " was built by an earlier version of the project, which "
                ~ "did not record the file each row came from: run dbt build --full-refresh -s "
                ~ this.identifier ~ " once, then build as before.") -%}
        {%- endif -%}
        {%- set stored = run_query(
            "select source_file, min(source_version), max(source_version), min(validation_version),"
            ~ " max(validation_version) from " ~ this ~ " group by 1 order by 1") -%}
        {%- set reset = input_reset_reason(name, sources, stored) -%}
        {%- set changes = custseg.table_changes(name)
            if table_input and reset is none and sources else none -%}
        {%- if changes is not none -%}
            {%- do sources[0].update({'version': changes.version}) -%}
            {%- set reset = table_reset_reason(name, sources[0].file, changes) -%}
        {%- endif -%}
        {%- if reset is not none -%}
            {%- do log(this ~ ": validating every row of " ~ name ~ " again: " ~ reset, info=True) -%}
            {%- do increment.update({'reset': reset}) -%}
        {%- elif changes is not none -%}
            {%- do log(this ~ ": " ~ changes.unseen ~ " new rows of " ~ sources[0].file
                ~ " to validate", info=True) -%}
            {%- do increment.update({'files': none if changes.unseen > 0 else [],
                'unseen': changes.unseen > 0, 'appends': true}) -%}
        {%- else -%}
            {%- set loaded = stored.columns[0].values() -%}
            {%- set new_files = [] -%}
            {%- for source in sources if source.file not in loaded -%}
                {%- do new_files.append(source.file) -%}
            {%- endfor -%}
            {%- do increment.update({'files': new_files, 'appends': true}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(increment) }}
{% endmacro %}


{% macro input_sources(name, versioned=true) %}
    {#-
        [{file, version}] of input `name`: its files in name order (raw_files), or the one
        seed or warehouse table it is, whose version is its row count and the sum of its rows'
        raw_hash (a full scan, skipped when not `versioned`: the version is then none, and
        table_changes finds it while comparing the rows). Spark builds are always full: there
        the version is 'full build'.
    -#}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return([]) }}
    {%- endif -%}
    {%- if target.type != 'duckdb' -%}
        {{ return([{'file': source('raw', name) | string, 'version': 'full build'}]) }}
    {%- endif -%}
    {%- if raw_origin() == 'files' -%}
        {{ return(raw_files(name)) }}
    {%- endif -%}
    {%- set from_sql = raw_source_relation(name) -%}
    {%- if from_sql is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set version = none if not versioned else run_query(
        "select count(*) || '@' || coalesce(sum(cast(" ~ custseg.raw_hash(raw_contract()[name], 'raw_input.')
        ~ " as hugeint)), 0) from " ~ raw_source(name) ~ " as raw_input").rows[0][0] -%}
    {{ return([{'file': source('raw', name) | string, 'version': version}]) }}
{% endmacro %}


{% macro validation_version(name) %}
    {#-
        A hash of everything base_<name>'s answer for a row depends on besides the row and
        the ids it references: the model's code and its rules as they render (the macro
        checked_<name>, with the parsing macros' SQL, its window bounds left as names: the
        clock moves them every build), the input's column mapping, timestamp formats and the
        validity window's var bounds. A build whose version differs from the stored one
        validates every row again.
    -#}
    {%- if model.resource_type == 'unit_test' -%}
        {{ return('unit_test') }}
    {%- endif -%}
    {%- set from_sql = raw_source_relation(name) -%}
    {%- set rules = custseg.get('checked_' ~ name) -%}
    {%- set parts = [
        model.raw_code,
        rules('input', 'min_valid_ts', 'max_valid_ts') if rules is not none else '',
        (raw_input_columns(name, from_sql)['contract'] if from_sql is not none else {}) | tojson,
        input_timestamp_formats(name) | tojson,
        custseg.min_valid_ts(),
        var('max_valid_ts', none) | string,
    ] -%}
    {{ return(local_md5(parts | join('|'))) }}
{% endmacro %}


{% macro input_reset_reason(name, sources, stored) %}
    {#-
        Why the rows base_<name> ({{ this }}) already holds would not get the same answer
        now, or none. Each reason is a way a full build would differ: other settings or code,
        a source changed, a new file that sorts before one already read (of copies of an id in
        several files the earliest file's wins), a customer added or removed that decides an
        orphan check, a rejected future timestamp that is no longer in the future, a source
        that is gone (table_reset_reason adds a table's own). `stored`: per source file of
        {{ this }}, the least and greatest source_version and validation_version.
    -#}
    {%- set versions = {} -%}
    {%- for source in sources -%}
        {%- do versions.update({source.file: source.version}) -%}
    {%- endfor -%}
    {%- set current_version = validation_version(name) -%}
    {%- for row in stored.rows -%}
        {%- if row[3] != current_version or row[4] != current_version -%}
            {{ return("the settings or the model changed since " ~ row[0] ~ " was validated") }}
        {%- elif row[0] not in versions -%}
            {{ return(row[0] ~ " is gone (its rows are dropped)") }}
        {%- elif versions[row[0]] is not none
            and (row[1] != versions[row[0]] or row[2] != versions[row[0]]) -%}
            {{ return(row[0] ~ " changed since it was validated") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set loaded = stored.columns[0].values() | list -%}
    {%- for source in sources if source.file not in loaded and loaded
        and source.file < loaded | max -%}
        {{ return("the new file " ~ source.file ~ " sorts before " ~ loaded | max
            ~ ", which was read before it") }}
    {%- endfor -%}
    {#-
        What the reference checks and the validity window decided: an accepted row whose
        referenced id (raw_references) is no longer accepted, a rejected orphan whose id now
        is, a row rejected for its timestamp (future_ or invalid_<column>) that lies inside
        the window now (max_valid_ts moves with the clock).
    -#}
    {%- set time_column = (timestamp_columns()[name] | list)[0] -%}
    {%- set references = raw_references()[name] -%}
    {%- set checks = [] -%}
    {%- for column, referenced in references.items() -%}
        {%- do checks.append(
            "exists (select 1 from " ~ this ~ " as validated anti join (" ~ accepted_ids(referenced)
            ~ ") as accepted using (" ~ column ~ ") where validated.reject_reason is null)") -%}
        {%- do checks.append(
            "exists (select 1 from " ~ this ~ " as validated semi join (" ~ accepted_ids(referenced)
            ~ ") as accepted using (" ~ column ~ ") where validated.reject_reason = 'orphan_"
            ~ column ~ "')") -%}
    {%- endfor -%}
    {%- do checks.append(
        "exists (select 1 from " ~ this ~ " where reject_reason in ('future_" ~ time_column
        ~ "', 'invalid_" ~ time_column ~ "') and " ~ time_column ~ " between cast('"
        ~ custseg.min_valid_ts() ~ "' as timestamp) and cast('" ~ custseg.max_valid_ts()
        ~ "' as timestamp))") -%}
    {%- set changed = run_query("select " ~ checks | join(", ")).rows[0] -%}
    {%- for column, referenced in references.items() -%}
        {%- if changed[2 * loop.index0] -%}
            {{ return("a " ~ column ~ " of accepted " ~ name ~ " is no longer an accepted one of "
                ~ referenced) }}
        {%- elif changed[2 * loop.index0 + 1] -%}
            {{ return("a " ~ column ~ " of rejected orphan " ~ name ~ " is now an accepted one of "
                ~ referenced) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if changed[-1] -%}
        {{ return("a " ~ name ~ " row rejected for its " ~ time_column
            ~ " lies inside the validity window now") }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{% macro accepted_ids(input) %}
    {#-
        The ids of the accepted rows of `input` (customers, campaigns), as the reference checks
        of the base models see them: its key column, the first of raw_keys.
    -#}
    {%- set key = raw_keys()[input][0] -%}
    select {{ key }} from {{ ref('base_' ~ input) }} where reject_reason is null
{% endmacro %}


{% macro source_versions(sources) %}
    {#- SQL: the version (input_sources) of the file a row came from, by its source_file. -#}
    {%- if not sources -%}
        cast(null as {{ dbt.type_string() }})
    {%- elif sources | length == 1 -%}
        {{ custseg.sql_string(sources[0].version) }}
    {%- else -%}
    case coalesce(source_file, {{ custseg.sql_string(sources[0].file if sources else '') }})
        {%- for source in sources %}
        when {{ custseg.sql_string(source.file) }} then {{ custseg.sql_string(source.version) }}
        {%- endfor %}
    end
    {%- endif -%}
{% endmacro %}


{% macro reset_purchase_totals() %}
    {#-
        A pre_hook of the incremental int_customer_purchase_totals: empties it (every customer
        is totalled again) when base_transactions validated every row again since its last
        build (no transaction is from a load it saw: a customer may have lost transactions)
        or the as-of date moved back (transactions leave the window).
    -#}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where
            (select max(as_of_date) from {{ this }})
            > (select as_of_date from ({{ as_of_date_select(ref('stg_transactions'), ref('stg_customers')) }}) as as_of)
            or (select min(loaded_at) from {{ ref('stg_transactions') }})
            > (select max(loaded_through) from {{ this }})
            or not exists (select 1 from {{ ref('stg_transactions') }})
    {%- endif -%}
{% endmacro %}


{% macro accepted_before(increment, keys) %}
    {#-
        SQL: the `keys` (a list of columns) and raw_hash of the rows earlier builds accepted
        ({{ this }}) when the build appends to them (input_increment), else no rows.
    -#}
    {%- if increment.appends -%}
        select
            {{ keys | join(', ') }},
            raw_hash
        from {{ this }}
        where reject_reason is null
    {%- else -%}
        select
            {%- for key in keys %}
            cast(null as {{ dbt.type_string() }}) as {{ key }},
            {%- endfor %}
            cast(null as {{ dbt.type_bigint() }}) as raw_hash
        where 1 = 0
    {%- endif -%}
{% endmacro %}


{% macro loaded_rows(name, increment, parsed_relation, malformed_relation) %}
    {#-
        The rows an incremental base_<name> writes: its parsed rows (`parsed_relation`, a CTE
        with the contract columns, reject_reason, raw_record, source_file and raw_hash) and its
        malformed CSV records (`malformed_relation`), each with where and how it was got:
        source_file (a malformed record's is the input's one file), source_version, loaded_at
        and validation_version (input_increment and input_reset_reason read them back).
    -#}
    {%- set contract = raw_contract()[name] -%}
    select
        {{ contract | join(', ') }},
        reject_reason,
        raw_record,
        coalesce(source_file, {{ custseg.sql_string(increment.sources[0].file if increment.sources else '') }})
            as source_file,
        {{ source_versions(increment.sources) }} as source_version,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as loaded_at,
        '{{ custseg.validation_version(name) }}' as validation_version,
        raw_hash
    from (
        {{ with_malformed_rows(parsed_relation, malformed_relation, contract + ['source_file', 'raw_hash']) }}
    ) as all_rows
{% endmacro %}


{% macro loaded_raw_values(contract) %}
    {#-
        raw_values(contract), then the row's source_file and raw_hash (a hash of its raw
        values): the select list a checked_<name> rule macro types an incremental input from.
        Ends in a comma.
    -#}
    {{- raw_values(contract) }}
    source_file,
    {{ custseg.raw_hash(contract) }} as raw_hash,
{%- endmacro %}


{% macro accepted_copy_reasons(key, copy_name) %}
    {#-
        The last rules of a checked_<name> case (`typed`: the row; accepted_before joined on
        its keys, `key` one of them): a copy of a row an earlier build accepted is
        duplicate_<copy_name> when its raw values hash alike, else conflicting_<copy_name>.
    -#}
    when accepted_before.raw_hash = typed.raw_hash then 'duplicate_{{ copy_name }}'
    when accepted_before.{{ key }} is not null then 'conflicting_{{ copy_name }}'
{%- endmacro %}


{% macro customers_to_retotal(transactions) %}
    {#-
        SQL for the incremental int_customer_purchase_totals ({{ this }}): the customers with
        transactions (the CTE `transactions`, stg_transactions) loaded after its last build, or
        dated after the as-of date it totalled through (a later as-of date takes them into the
        window); every customer with transactions when it is empty (reset_purchase_totals).
    -#}
    select distinct changed.customer_id
    from {{ transactions }} as changed
    cross join (
        select
            max(loaded_through) as loaded_through,
            max(as_of_date) as as_of_date
        from {{ this }}
    ) as totalled_before
    where
        totalled_before.loaded_through is null
        or changed.loaded_at > totalled_before.loaded_through
        or cast(changed.transaction_ts as date) > totalled_before.as_of_date
{% endmacro %}


{% macro clear_for_revalidation(name) %}
    {#-
        A pre_hook of the incremental base_<name> (strategy append): empties it when this
        build validates every row again (input_increment: not appending), so the rows the
        build writes replace all it held, those of sources that are gone included. Else the
        rows it validated before stand and the build adds the new ones.
    -#}
    {%- if execute and is_incremental() and not input_increment(name).appends -%}
        delete from {{ this }}
    {%- endif -%}
{% endmacro %}


{% macro table_changes(name) %}
    {#-
        How table input `name` (a seed or a table in var raw_schema) differs from the rows
        {{ this }} holds, row by row: rows are compared by raw_hash (their contract columns'
        raw values), copies counted, in one aggregate of both. {'unseen': rows of the table it
        does not hold yet (the copies beyond those it holds), 'removed': rows it holds that
        the table no longer has (a row changed in place is one removed and one unseen),
        'conflicting': unseen rows whose key (raw_keys) an accepted row has with other raw
        values, 'version': the table's version (input_sources)}. When rows are unseen and
        none removed, it keeps them in the temporary table raw_input(name) reads
        (custseg_raw_<name>, unseen_rows): compiling and running a node share a connection.
    -#}
    {%- set contract = raw_contract()[name] -%}
    {%- set keys = raw_keys()[name] -%}
    {%- set changed = 'custseg_changed_' ~ name -%}
    {#- One aggregate of both sides' hashes: per raw_hash, the table's copies less those held. -#}
    {%- do run_query(
        "create or replace temp table " ~ changed ~ " as select raw_hash, sum(copies) as delta "
        ~ "from (select " ~ custseg.raw_hash(contract, 'raw_input.') ~ " as raw_hash, 1 as copies "
        ~ "from " ~ raw_source(name) ~ " as raw_input union all select raw_hash, -1 from " ~ this
        ~ ") as both_sides group by raw_hash having sum(copies) != 0") -%}
    {%- set found = run_query(
        "select coalesce(sum(greatest(delta, 0)), 0), coalesce(sum(greatest(-delta, 0)), 0), "
        ~ "(select count(*) from " ~ this ~ ") + coalesce(sum(delta), 0) || '@' || "
        ~ "(coalesce((select sum(cast(raw_hash as hugeint)) from " ~ this ~ "), 0) "
        ~ "+ coalesce(sum(cast(raw_hash as hugeint) * delta), 0)) from " ~ changed).rows[0] -%}
    {%- set changes = {'unseen': found[0] | int, 'removed': found[1] | int, 'conflicting': 0,
        'version': found[2]} -%}
    {%- if changes.unseen > 0 and changes.removed == 0 -%}
        {%- do run_query(
            "create or replace temp table custseg_raw_" ~ name ~ " as select * from "
            ~ custseg.unseen_rows(name, raw_source(name, none, 'source_file'), changed) ~ " as unseen") -%}
        {%- do changes.update({'conflicting': run_query(
            "select count(*) from custseg_raw_" ~ name ~ " as unseen inner join " ~ this
            ~ " as accepted on " ~ custseg.keys_match(keys, 'accepted', 'unseen', typed=true)
            ~ " and accepted.reject_reason is null and accepted.raw_hash != "
            ~ custseg.raw_hash(contract, 'unseen.')).rows[0][0] | int}) -%}
        {%- if changes.conflicting > 0 -%}
            {%- do run_query("drop table custseg_raw_" ~ name) -%}
        {%- endif -%}
    {%- endif -%}
    {%- do run_query("drop table " ~ changed) -%}
    {{ return(changes) }}
{% endmacro %}


{% macro table_reset_reason(name, label, changes) %}
    {#-
        Why the rows base_<name> holds of table input `name` (named `label` in messages) would
        not get the same answer now, from its table_changes, or none: rows changed in place or
        deleted, or a new row with the key of an accepted row but other values (a table has no
        delivery order, so which copy a full build keeps depends on every copy).
    -#}
    {%- if changes.removed > 0 -%}
        {{ return(changes.removed ~ " rows validated earlier are no longer in " ~ label
            ~ " (changed or deleted)") }}
    {%- elif changes.conflicting > 0 -%}
        {{ return(changes.conflicting ~ " new rows of " ~ label ~ " share the key of an "
            ~ "accepted row but not its values (which copy is kept depends on every copy)") }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{% macro unseen_rows(name, relation, changed) %}
    {#-
        Subquery: the rows of table input `name` (`relation`: raw_source(name) with its
        source_file column) that {{ this }} does not hold yet: per raw_hash whose copies grew
        (`changed`, the comparison table_changes made: delta, the table's copies less those
        held) that many of its copies (copies alike in every contract column, so which of
        them are taken does not matter).
        DuckDB (the incremental build's engine).
    -#}
    {%- set contract = raw_contract()[name] -%}
    (
        with

        numbered as (
            select
                raw_input.*,
                changed.delta as _unseen_copies,
                row_number() over (partition by changed.raw_hash) as _copy_number
            from {{ relation }} as raw_input
            inner join {{ changed }} as changed
                on {{ custseg.raw_hash(contract, 'raw_input.') }} = changed.raw_hash
            where changed.delta > 0
        )

        select * exclude (_unseen_copies, _copy_number)
        from numbered
        where _copy_number <= _unseen_copies
    )
{% endmacro %}


{% macro raw_hash(columns, prefix='') %}
    {#- SQL: the raw_hash of a row, a hash of its raw values of `columns` (as raw_source gives them). -#}
    hash({% for column in columns %}{{ prefix ~ column }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}


{% macro keys_match(keys, left, right, typed=false) %}
    {#-
        SQL: `left`.<key> = `right`.<key> for each of `keys`, joined by and; `typed`: the
        right side's keys are raw values, typed as staging keys them (to_id).
    -#}
    {%- for key in keys %}{{ " and " if not loop.first }}{{ left }}.{{ key }} = {{ to_id(right ~ '.' ~ key) if typed else right ~ '.' ~ key }}{% endfor -%}
{%- endmacro %}
