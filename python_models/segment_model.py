"""Fit the K-means segmentation, or score with the latest fit, and append the run to the run
history (logic: custseg.run; whether to fit: custseg.refit)."""

import json
from datetime import UTC, datetime

from custseg.clustering import load_features, load_raw_features
from custseg.run import (
    BOUNDS_COLUMNS,
    RunContext,
    as_table,
    check_history_columns,
    dbt_invocation_id,
    input_rows,
    next_run_number,
    raw_feature_columns,
    resolve_features,
    segmentation_run,
    with_warnings,
)
from custseg.settings import (
    command_line_vars,
    declared_vars,
    project_dir,
    unknown_var_warnings,
)


def model(dbt, session):
    dbt.config(materialized="incremental")
    history = []
    if dbt.is_incremental:
        stored = session.sql(f"select * from {dbt.this}")
        check_history_columns(stored.columns)
        history = stored.arrow().read_all().to_pylist()
    bounds = dbt.ref("int_feature_bounds").query(
        "b", f"select {', '.join(BOUNDS_COLUMNS)} from b order by feature_order")
    settings, preparation, defaults = resolve_features(
        json.loads(dbt.config.get("segmentation")),
        [dict(zip(BOUNDS_COLUMNS, row, strict=True)) for row in bounds.fetchall()])
    ((as_of_date,),) = dbt.ref("int_as_of_date").fetchall()
    context = RunContext(
        run_number=next_run_number(history), run_id=dbt_invocation_id(),
        fitted_at=datetime.now(UTC).replace(tzinfo=None),
        input_rows=input_rows(dbt.ref("data_quality_summary").df()), as_of_date=as_of_date)
    numeric, categorical = raw_feature_columns(history, settings, preparation, defaults)
    raw = load_raw_features(dbt.ref("int_customer_features"), numeric, categorical)

    def load_prepared(features):
        return load_features(dbt.ref("int_customer_features_prepared"), features)

    run = segmentation_run(raw, load_prepared, settings, preparation,
                           json.loads(dbt.config.get("refit_policy")), history, context,
                           defaults)
    misspelt = unknown_var_warnings(command_line_vars(), declared_vars(project_dir()))
    return as_table([with_warnings(run, misspelt)])
