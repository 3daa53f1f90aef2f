"""One segmentation run as one row of the segment_model history table.

The dbt Python model `segment_model` is incremental: every build appends one run, stamped with
a run number, the dbt invocation id and the time. A run either fits (run_type `fit`) or scores
with the latest fit (`score`); custseg.refit decides which, under var refit, and the run keeps
the reason in words. A run is one row with typed columns: the settings, the outcome (chosen K,
counts, fingerprint, rule quality, or the error that stopped it) and typed lists for what has
many parts - the inputs it saw, each feature (used or excluded, its preparation - imputation,
winsorizing bounds, transform - and scaler, importance), each segment (stable id, matched /
new / retired, drift, its share and distances at fit time), the centroids, the K-selection
metrics, the rules, the reference bins of the drift checks and the drift checks themselves.

A fit stores everything it learned, so scoring never looks at the current data's statistics:
SQL reads the latest fit (int_segment_fit and the typed views beside it) to score customers;
the marts read all runs for the history.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from custseg.clustering import (
    SegmentationConfig,
    SegmentationError,
    SegmentationResult,
    apply_scaler,
    check_feature_names,
    fit_segments,
    is_categorical,
    usable_features,
)
from custseg.explain import Explanation, explain_segments
from custseg.lifecycle import (
    SegmentIds,
    fit_space,
    latest_fit,
    match_segment_ids,
    previous_fit,
)
from custseg.refit import RefitPolicy, decide, fit_settings
from custseg.scoring import (
    FitParameters,
    drift_checks,
    reference_bins,
    score,
    segment_reference,
)
from custseg.settings import normalise_name


def _list_of(*fields: tuple[str, pa.DataType]) -> pa.DataType:
    return pa.list_(pa.struct(list(fields)))


RUN_SCHEMA = pa.schema([
    ("run_number", pa.int64()),
    ("run_id", pa.string()),
    ("fitted_at", pa.timestamp("us")),
    ("run_type", pa.string()),
    ("reason", pa.string()),
    ("fit_run_number", pa.int64()),
    ("as_of_date", pa.date32()),
    ("error", pa.string()),
    ("warnings", pa.string()),
    ("refit", pa.string()),
    ("refit_after_days", pa.int32()),
    ("scaler", pa.string()),
    ("k_min", pa.int32()),
    ("k_max", pa.int32()),
    ("k_selection", pa.string()),
    ("n_segments", pa.int32()),
    ("random_state", pa.int32()),
    ("n_init", pa.int32()),
    ("fit_sample_size", pa.int64()),
    ("silhouette_sample_size", pa.int64()),
    ("match_max_distance", pa.float64()),
    ("rules_max_depth", pa.int32()),
    ("min_level_share", pa.float64()),
    ("outlier_fraction", pa.float64()),
    ("winsorize_lower", pa.float64()),
    ("winsorize_upper", pa.float64()),
    ("chosen_k", pa.int32()),
    ("customers", pa.int64()),
    ("fit_rows", pa.int64()),
    ("feature_fingerprint", pa.string()),
    ("previous_run_number", pa.int32()),
    ("mean_distance", pa.float64()),
    ("rules_accuracy", pa.float64()),
    ("rules_macro_f1", pa.float64()),
    ("inputs", _list_of(
        ("source", pa.string()), ("raw_rows", pa.int64()), ("accepted_rows", pa.int64()))),
    ("features", _list_of(
        ("feature", pa.string()), ("feature_order", pa.int32()), ("is_used", pa.bool_()),
        ("excluded_reason", pa.string()), ("transform", pa.string()),
        ("impute_strategy", pa.string()), ("impute_value", pa.float64()),
        ("lower_bound", pa.float64()), ("upper_bound", pa.float64()),
        ("scaler_center", pa.float64()), ("scaler_scale", pa.float64()),
        ("variance_explained", pa.float64()), ("tree_importance", pa.float64()))),
    ("segments", _list_of(
        ("segment_id", pa.int32()), ("status", pa.string()), ("fit_customers", pa.int64()),
        ("centroid_drift", pa.float64()), ("customers", pa.int64()), ("share", pa.float64()),
        ("mean_distance", pa.float64()), ("outlier_distance", pa.float64()))),
    ("centroids", _list_of(
        ("segment_id", pa.int32()), ("feature", pa.string()), ("centroid_scaled", pa.float64()))),
    ("levels", _list_of(
        ("feature", pa.string()), ("level", pa.string()), ("level_order", pa.int32()),
        ("fit_share", pa.float64()), ("scaler_center", pa.float64()),
        ("scaler_scale", pa.float64()))),
    ("level_centroids", _list_of(
        ("segment_id", pa.int32()), ("feature", pa.string()), ("level", pa.string()),
        ("centroid_scaled", pa.float64()))),
    ("k_metrics", _list_of(
        ("k", pa.int32()), ("inertia", pa.float64()), ("silhouette", pa.float64()),
        ("davies_bouldin", pa.float64()), ("calinski_harabasz", pa.float64()),
        ("is_chosen", pa.bool_()))),
    ("rules", _list_of(
        ("segment_id", pa.int32()), ("rule_number", pa.int32()), ("rule", pa.string()),
        ("customers", pa.int64()), ("precision", pa.float64()), ("recall", pa.float64()))),
    ("reference_bins", _list_of(
        ("feature", pa.string()), ("bin_number", pa.int32()), ("lower_edge", pa.float64()),
        ("upper_edge", pa.float64()), ("level", pa.string()), ("share", pa.float64()))),
    ("drift_checks", _list_of(
        ("check_name", pa.string()), ("check_type", pa.string()), ("feature", pa.string()),
        ("segment_id", pa.int32()), ("fit_run_number", pa.int64()),
        ("reference_value", pa.float64()), ("current_value", pa.float64()),
        ("value", pa.float64()), ("threshold", pa.float64()), ("is_drifted", pa.bool_()))),
])
"""The history table's columns: one home for their names and types (DuckDB and Spark)."""

Run = dict[str, Any]
"""One run: a row of RUN_SCHEMA as Python values (lists of dicts for the list columns)."""


@dataclass(frozen=True)
class RunContext:
    """Who and what a run is: its number and id, when it ran, the inputs it saw."""

    run_number: int
    run_id: str
    fitted_at: datetime
    input_rows: Mapping[str, tuple[int, int]]  # source -> (raw rows, accepted rows)
    as_of_date: date | None = None  # the build's reference date (int_as_of_date)


def dbt_invocation_id() -> str:
    """The id of the running dbt invocation (dbt runs DuckDB Python models in-process).

    Outside dbt (e.g. a notebook calling the package) there is none and a random id is used.
    """
    try:
        from dbt_common.invocation import get_invocation_id
    except ImportError:  # pragma: no cover - dbt is a dependency of the project
        return str(uuid.uuid4())
    return str(get_invocation_id())


def check_history_columns(columns: Sequence[str]) -> None:
    """Stop with the fix when the stored history does not have RUN_SCHEMA's columns (e.g. a
    database built by an earlier version, whose history held long section / metric rows)."""
    if list(columns) != RUN_SCHEMA.names:
        raise ValueError(
            "segment_model's stored run history has other columns than this version writes "
            f"({', '.join(columns)}); run `dbt build --full-refresh` once to start it afresh")


def next_run_number(history: Sequence[Run]) -> int:
    """1 for the first run, else one more than the latest run in the history."""
    return max((int(run["run_number"]) for run in history), default=0) + 1


def as_table(runs: Sequence[Run]) -> pa.Table:
    """Runs as an Arrow table of RUN_SCHEMA (what the DuckDB Python model returns)."""
    return pa.Table.from_pylist(list(runs), schema=RUN_SCHEMA)


def input_rows(quality: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """(raw, accepted) rows per source from data_quality_summary (reason null = accepted)."""
    totals = quality.groupby("source")["rows"].sum()
    accepted = quality[quality["reason"].isna()].groupby("source")["rows"].sum()
    return {source: (int(totals[source]), int(accepted.get(source, 0))) for source in totals.index}


def feature_fingerprint(frame: pd.DataFrame, features: list[str]) -> str:
    """SHA-256 of the customer ids and the used feature values, in the frame's row order
    (numeric ones as floats, then each categorical one as text)."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(frame["customer_id"].astype(str).to_numpy()).encode())
    digest.update(",".join(features).encode())
    numeric = [name for name in features if not is_categorical(frame[name])]
    digest.update(np.ascontiguousarray(frame[numeric].to_numpy(dtype=float)).tobytes())
    for name in features:
        if name not in numeric:  # a categorical feature's values, as text
            digest.update(("\x1e" + name + "\x1f" + "\x1f".join(
                frame[name].astype(str).to_numpy())).encode())
    return digest.hexdigest()


PURCHASE_SOURCE = "int_transactions_aggregated_to_customers"
"""The model that defines the purchase features (feature catalogue `source`); every other
numeric feature is an attribute of the customers input (age, income, tenure, extra columns)."""

PREPARATION_FIELDS = ("transform", "impute_strategy", "impute_value", "lower_bound",
                      "upper_bound")

BOUNDS_COLUMNS = ("feature", *PREPARATION_FIELDS, "is_default_feature", "source_model")
"""The columns of int_feature_bounds a run reads (both engines' fit steps select these)."""

Preparation = Mapping[str, Mapping[str, Any]]
"""Per numeric feature (catalogue order), what int_feature_bounds learned from this build's
data: transform, impute_strategy, impute_value, lower_bound, upper_bound. A fit stores it with
itself (RUN_SCHEMA features); scoring reads it from the fit, never from here."""


@dataclass(frozen=True)
class DefaultFeatures:
    """What the fit clusters on when var segmentation_features is null: the catalogue's
    default set, and, when none of its purchase features is usable (a customers-only input, or
    transactions that do not vary), every usable numeric customer attribute too."""

    purchase: tuple[str, ...]  # the default features the transactions define
    attributes: tuple[str, ...]  # every numeric feature of the customers input


def resolve_features(
    settings: Mapping[str, Any], bounds: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], DefaultFeatures | None]:
    """The settings with `features` filled in (names normalised as input headers are:
    `Spending Score` is spending_score), each numeric feature's preparation, and the default
    set's fallback (None when var segmentation_features names the features).

    `bounds` are int_feature_bounds rows (BOUNDS_COLUMNS) in catalogue order; without var
    segmentation_features the fit uses the catalogue's default set.
    """
    preparation = {row["feature"]: {name: row[name] for name in PREPARATION_FIELDS}
                   for row in bounds}
    if settings.get("features") is not None:
        wanted = [normalise_name(name) for name in settings["features"]]
        return {**settings, "features": wanted}, preparation, None
    defaults = DefaultFeatures(
        purchase=tuple(row["feature"] for row in bounds
                       if row["is_default_feature"] and row["source_model"] == PURCHASE_SOURCE),
        attributes=tuple(row["feature"] for row in bounds
                         if row["source_model"] != PURCHASE_SOURCE))
    features = [row["feature"] for row in bounds if row["is_default_feature"]]
    return {**settings, "features": features}, preparation, defaults


def raw_feature_columns(
    history: Sequence[Run], settings: Mapping[str, Any], preparation: Preparation,
    defaults: DefaultFeatures | None = None,
) -> tuple[list[str], list[str]]:
    """The raw feature columns a run reads (numeric ones, categorical ones): the features asked
    for, the default set's fallback attributes, and the features of the latest fit (which drift
    checks and scoring need)."""
    latest = latest_fit(history)
    fitted = [f["feature"] for f in latest["features"] if f["is_used"]] if latest else []
    fallback = list(defaults.attributes) if defaults else []
    names = list(dict.fromkeys([*(settings.get("features") or []), *fallback, *fitted]))
    return ([name for name in names if name in preparation],
            [name for name in names if name not in preparation])


def with_attribute_fallback(
    frame: pd.DataFrame, settings: Mapping[str, Any], defaults: DefaultFeatures | None
) -> tuple[dict[str, Any], list[str]]:
    """The settings, with every usable numeric customer attribute added to the default set
    when none of its purchase features is usable, and the warning that says so."""
    if defaults is None or not defaults.purchase:
        return dict(settings), []
    if usable_features(frame, defaults.purchase)[0]:
        return dict(settings), []
    features = list(settings["features"])
    added, _ = usable_features(frame, tuple(
        name for name in defaults.attributes if name not in features))
    if not added:
        return dict(settings), []
    return {**settings, "features": features + added}, [
        "no purchase feature of the default set is usable (no transactions, or none that "
        f"vary): the fit uses every usable numeric customer attribute ({', '.join(added)}) "
        "beside it; set var segmentation_features to choose"]


def segmentation_run(
    raw: pd.DataFrame,
    load_prepared: Callable[[tuple[str, ...]], pd.DataFrame],
    settings: Mapping[str, Any],
    preparation: Preparation,
    policy: Mapping[str, Any],
    history: Sequence[Run],
    context: RunContext,
    defaults: DefaultFeatures | None = None,
) -> Run:
    """This build's run: measure the current customers (`raw`, raw feature values sorted by
    customer id) against the latest fit, decide under the refit policy, then fit (on the
    prepared features `load_prepared` returns) or score with the latest fit.

    `defaults` (resolve_features) is the default set's fallback when var
    segmentation_features is null, decided on `raw` before the refit decision (so a fallback
    fit compares equal to the next build's settings). Settings or data the segmentation can not
    work with give a failed run (its `error` holds the reason, which int_segment_fit turns into
    a one-line dbt error).
    """
    try:
        refit_policy = RefitPolicy.from_mapping(policy)
        settings, notes = with_attribute_fallback(raw, settings, defaults)
        config = SegmentationConfig.from_mapping(settings)
    except SegmentationError as error:
        return failed_run(str(error), context)
    latest = latest_fit(history)
    fit = FitParameters.from_run(latest) if latest is not None else None
    checks = (drift_checks(raw, fit, refit_policy.thresholds)
              if fit is not None and set(fit.features) <= set(raw.columns) else [])
    decision = decide(refit_policy, latest, fit_settings(config, preparation),
                      context.as_of_date, checks)
    if decision.refit:
        return with_warnings(
            fit_run(load_prepared(tuple(config.features)), settings, preparation, history,
                    context, raw=raw, reason=decision.reason, checks=checks,
                    policy=refit_policy), notes)
    if latest is None or fit is None:
        return failed_run(decision.reason, context, run_type="score", policy=refit_policy)
    return with_warnings(score_run(raw, fit, decision.reason, checks, context, refit_policy),
                         notes)

def score_run(raw: pd.DataFrame, fit: FitParameters, reason: str,
              checks: Sequence[Mapping[str, Any]], context: RunContext,
              policy: RefitPolicy) -> Run:
    """A run that scored with a stored fit: which fit and why, the customers scored, their
    fingerprint and mean distance, and the drift checks against the fit."""
    run = _empty_run(context, run_type="score", policy=policy)
    scores = score(raw, fit)
    run.update(reason=reason, fit_run_number=fit.run_number, customers=len(raw),
               feature_fingerprint=feature_fingerprint(raw, fit.features),
               mean_distance=_float_or_none(float(np.mean(scores.distances)))
               if len(raw) else None)
    run["drift_checks"] = list(checks)
    return run


def fit_run(
    frame: pd.DataFrame,
    settings: Mapping[str, Any],
    preparation: Preparation,
    history: Sequence[Run],
    context: RunContext,
    raw: pd.DataFrame | None = None,
    reason: str = "refit: always",
    checks: Sequence[Mapping[str, Any]] = (),
    policy: RefitPolicy | None = None,
) -> Run:
    """Fit on the prepared features `frame`, give the segments stable ids against the most
    recent fit in the same feature space, explain them, and record what the fit measures
    about the customers `raw` (raw feature values; `frame` itself when omitted): each
    segment's share, distances and outlier distance, and the reference bins of later drift
    checks.
    """
    try:
        categorical = [name for name in frame.columns
                       if name != "customer_id" and name not in preparation]
        check_feature_names(settings.get("features") or [], [*preparation, *categorical])
        config = SegmentationConfig.from_mapping(settings)
        result = fit_segments(frame, config)
    except SegmentationError as error:
        return failed_run(str(error), context, policy=policy)
    columns = result.columns or result.features
    space = fit_space(config.scaler, [
        (name, preparation[name]["transform"] if name in preparation else "indicator")
        for name in columns])
    ids = match_segment_ids(columns, result.centroids, result.center, result.scale,
                            previous_fit(history, space), config.match_max_distance, space)
    labels = ids.ids[result.labels - 1]
    transforms = {name: entry["transform"] for name, entry in preparation.items()}
    explanation = explain_segments(
        result.matrix, apply_scaler(result.matrix, result.center, result.scale), labels,
        columns, {**transforms, **{level.column: "indicator" for level in result.levels or []}},
        config.rules_max_depth, config.random_state, result.feature_of_column())
    run = fitted_run(result, ids, labels, explanation,
                     feature_fingerprint(frame, result.features), context, preparation,
                     reason, policy or RefitPolicy())
    run["drift_checks"] = list(checks)
    return with_reference(run, frame if raw is None else raw, config.outlier_fraction)


def with_reference(run: Run, raw: pd.DataFrame, outlier_fraction: float) -> Run:
    """The fitted run with what the fit measures about its customers, scored with the run's
    own stored parameters: per segment the customers, their share, mean distance and outlier
    distance; the mean distance of all; the reference bins of each clustering feature."""
    fit = FitParameters.from_run(run)
    reference = segment_reference(score(raw, fit), fit.segment_ids, outlier_fraction)
    by_id = {int(segment): i for i, segment in enumerate(fit.segment_ids)}
    segments = []
    for segment in run["segments"]:
        i = by_id.get(int(segment["segment_id"]))
        if i is not None and segment["status"] != "retired":
            segment = {**segment, "customers": int(reference.customers[i]),
                       "share": float(reference.shares[i]),
                       "mean_distance": _float_or_none(reference.mean_distances[i]),
                       "outlier_distance": _float_or_none(reference.outlier_distances[i])}
        segments.append(segment)
    return {**run, "segments": segments, "reference_bins": reference_bins(raw, fit),
            "mean_distance": _float_or_none(reference.mean_distance)}


def with_warnings(run: Run, extra: Sequence[str]) -> Run:
    """The run with more warnings (e.g. misspelt vars) after its own, "; "-separated."""
    if not extra:
        return run
    return {**run, "warnings": "; ".join([*filter(None, [run["warnings"]]), *extra])}


def _empty_run(context: RunContext, run_type: str = "fit",
               policy: RefitPolicy | None = None) -> Run:
    """Every column null (lists empty), stamped with the run's number, id, time, type, the
    refit policy, the build's as-of date and the inputs it saw."""
    run: Run = {field.name: None for field in RUN_SCHEMA}
    for field in RUN_SCHEMA:
        if pa.types.is_list(field.type):
            run[field.name] = []
    run.update(run_number=context.run_number, run_id=context.run_id,
               fitted_at=context.fitted_at, run_type=run_type, as_of_date=context.as_of_date)
    if policy is not None:
        run.update(refit=policy.refit, refit_after_days=policy.refit_after_days)
    run["inputs"] = [{"source": source, "raw_rows": raw, "accepted_rows": accepted}
                     for source, (raw, accepted) in sorted(context.input_rows.items())]
    return run


def failed_run(reason: str, context: RunContext, run_type: str = "fit",
               policy: RefitPolicy | None = None) -> Run:
    """A run that could not fit (or score): the reason and the inputs it saw."""
    return {**_empty_run(context, run_type, policy), "error": reason}


def _float_or_none(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def fitted_run(
    result: SegmentationResult,
    ids: SegmentIds,
    labels: np.ndarray,
    explanation: Explanation,
    fingerprint: str,
    context: RunContext,
    preparation: Preparation,
    reason: str,
    policy: RefitPolicy,
) -> Run:
    """The run of a fit: settings, outcome, and one list entry per feature (with the
    preparation it learned), segment, centroid value, evaluated K and rule."""
    config = result.config
    run = _empty_run(context, "fit", policy)
    run.update(
        reason=reason, fit_run_number=context.run_number,
        outlier_fraction=config.outlier_fraction,
        winsorize_lower=float(config.winsorize_percentiles[0]),
        winsorize_upper=float(config.winsorize_percentiles[1]),
        scaler=config.scaler, k_min=config.k_min, k_max=config.k_max,
        k_selection="fixed" if config.n_segments is not None else config.k_selection,
        n_segments=config.n_segments, random_state=config.random_state, n_init=config.n_init,
        fit_sample_size=config.fit_sample_size,
        silhouette_sample_size=config.silhouette_sample_size,
        match_max_distance=config.match_max_distance, rules_max_depth=config.rules_max_depth,
        min_level_share=config.min_level_share,
        chosen_k=result.chosen_k, customers=result.n_rows, fit_rows=result.n_fit_rows,
        feature_fingerprint=fingerprint, previous_run_number=ids.previous_run_number,
        warnings="; ".join(result.warnings) or None,
        rules_accuracy=float(explanation.accuracy), rules_macro_f1=float(explanation.macro_f1),
    )
    columns = result.columns or result.features
    numeric = {name: i for i, name in enumerate(columns) if name in result.features}
    importance = explanation.importance.set_index("feature")
    for order, name in enumerate(config.features, start=1):
        used = name in result.features
        i = numeric.get(name)  # None for a categorical feature: its scaler is per level
        prepared = preparation.get(name, {})  # empty for a categorical feature
        run["features"].append({
            "feature": name, "feature_order": order, "is_used": used,
            "excluded_reason": None if used else result.excluded[name],
            **{field: _float_or_none(prepared.get(field)) if field not in (
                "transform", "impute_strategy") else prepared.get(field)
               for field in PREPARATION_FIELDS},
            "scaler_center": None if i is None else float(result.center[i]),
            "scaler_scale": None if i is None else float(result.scale[i]),
            "variance_explained": float(importance.at[name, "variance_explained"])
            if used else None,
            "tree_importance": float(importance.at[name, "tree_importance"]) if used else None,
        })
    for order, level in enumerate(result.levels or [], start=1):
        run["levels"].append({
            "feature": level.feature, "level": level.level, "level_order": order,
            "fit_share": level.share, "scaler_center": level.share,
            "scaler_scale": level.scale})
    for row, segment_id in enumerate(ids.ids):
        segment = int(segment_id)
        run["segments"].append({
            "segment_id": segment, "status": ids.status[row],
            "fit_customers": int(np.sum(labels == segment)),
            "centroid_drift": _float_or_none(ids.drift[row])})
        for name, i in numeric.items():
            run["centroids"].append({"segment_id": segment, "feature": name,
                                     "centroid_scaled": float(result.centroids[row, i])})
        for level in result.levels or []:
            run["level_centroids"].append({
                "segment_id": segment, "feature": level.feature, "level": level.level,
                "centroid_scaled": float(result.centroids[row, columns.index(level.column)])})
    for segment in ids.retired:
        run["segments"].append({"segment_id": int(segment), "status": "retired",
                                "fit_customers": None, "centroid_drift": None})
    for record in result.k_metrics.to_dict("records"):
        run["k_metrics"].append({
            "k": int(record["k"]), **{metric: float(record[metric]) for metric in
                                      ("inertia", "silhouette", "davies_bouldin",
                                       "calinski_harabasz")},
            "is_chosen": int(record["k"]) == result.chosen_k})
    for record in explanation.rules.to_dict("records"):
        run["rules"].append({
            "segment_id": int(record["segment_id"]), "rule_number": int(record["rule_number"]),
            "rule": str(record["rule"]), "customers": int(record["customers"]),
            "precision": float(record["precision"]), "recall": float(record["recall"])})
    return run
