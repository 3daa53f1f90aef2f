"""Fit the K-means segmentation and append it to the run history (logic: custseg.run)."""

import json
from datetime import UTC, datetime

from custseg.clustering import load_features
from custseg.run import (
    RunContext,
    as_table,
    check_history_columns,
    dbt_invocation_id,
    fit_run,
    input_rows,
    next_run_number,
    resolve_features,
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
        "b", "select feature, transform, is_default_feature, source_model from b "
        "order by feature_order")
    settings, transforms, defaults = resolve_features(
        json.loads(dbt.config.get("segmentation")), bounds.fetchall())
    context = RunContext(
        run_number=next_run_number(history), run_id=dbt_invocation_id(),
        fitted_at=datetime.now(UTC).replace(tzinfo=None),
        input_rows=input_rows(dbt.ref("data_quality_summary").df()))
    features = load_features(dbt.ref("int_customer_features_prepared"), (
        *settings["features"], *(defaults.attributes if defaults else ())))
    run = fit_run(features, settings, transforms, history, context, defaults)
    misspelt = unknown_var_warnings(command_line_vars(), declared_vars(project_dir()))
    return as_table([with_warnings(run, misspelt)])
