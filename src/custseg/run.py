"""One segmentation run as rows of the segment_model history table.

The dbt Python model `segment_model` is incremental: every build appends one run, stamped with
a run number, the dbt invocation id and the fit time. A run holds the fit (scaler, centroids
under stable ids, K selection), how it relates to the previous run (matched, new and retired
segments, centroid drift), the rules that explain it and the inputs it saw (row counts and a
fingerprint of the feature table). SQL reads the latest run (int_segment_fit) to score
customers; the marts read all runs for the history.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from custseg.clustering import (
    SegmentationConfig,
    SegmentationError,
    SegmentationResult,
    apply_scaler,
    fit_segments,
)
from custseg.explain import Explanation, explain_segments
from custseg.lifecycle import SegmentIds, match_segment_ids, previous_fit

COLUMNS = {
    "run_number": "Int64", "run_id": "string", "fitted_at": "datetime64[us]",
    "section": "string", "k": "Int64", "segment_id": "Int64", "feature": "string",
    "metric": "string", "value": "float64", "text_value": "string",
}


@dataclass(frozen=True)
class RunContext:
    """Who and what a run is: its number and id, when it ran, the inputs it saw."""

    run_number: int
    run_id: str
    fitted_at: datetime
    input_rows: Mapping[str, tuple[int, int]]  # source -> (raw rows, accepted rows)


def dbt_invocation_id() -> str:
    """The id of the running dbt invocation (dbt runs DuckDB Python models in-process).

    Outside dbt (e.g. a notebook calling the package) there is none and a random id is used.
    """
    try:
        from dbt_common.invocation import get_invocation_id
    except ImportError:  # pragma: no cover - dbt is a dependency of the project
        return str(uuid.uuid4())
    return str(get_invocation_id())


def next_run_number(history: pd.DataFrame | None) -> int:
    """1 for the first run, else one more than the latest run in the history."""
    if history is None or history.empty:
        return 1
    return int(history["run_number"].max()) + 1


def input_rows(quality: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """(raw, accepted) rows per source from data_quality_summary (reason null = accepted)."""
    totals = quality.groupby("source")["rows"].sum()
    accepted = quality[quality["reason"].isna()].groupby("source")["rows"].sum()
    return {source: (int(totals[source]), int(accepted.get(source, 0))) for source in totals.index}


def feature_fingerprint(frame: pd.DataFrame, features: list[str]) -> str:
    """SHA-256 of the customer ids and the used feature values, in the frame's row order."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(frame["customer_id"].astype(str).to_numpy()).encode())
    digest.update(",".join(features).encode())
    digest.update(np.ascontiguousarray(frame[features].to_numpy(dtype=float)).tobytes())
    return digest.hexdigest()


def resolve_features(
    settings: Mapping[str, Any], bounds: Sequence[tuple[str, str, bool]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings with `features` filled in, and each feature's transform.

    `bounds` are int_feature_bounds rows (feature, transform, is_default_feature) in catalogue
    order; without var segmentation_features the fit uses the catalogue's default set.
    """
    wanted = list(settings.get("features") or
                  [name for name, _, is_default in bounds if is_default])
    return {**settings, "features": wanted}, {name: transform for name, transform, _ in bounds}


def fit_run(
    frame: pd.DataFrame,
    settings: Mapping[str, Any],
    transforms: Mapping[str, str],
    history: pd.DataFrame | None,
    context: RunContext,
) -> pd.DataFrame:
    """Fit, give the segments stable ids against the history, explain them; one run's rows.

    Settings or data the segmentation can not work with (SegmentationError) give a failed run:
    its rows hold the reason, which int_segment_fit turns into a one-line dbt error.
    """
    try:
        config = SegmentationConfig.from_mapping(settings)
        result = fit_segments(frame, config)
    except SegmentationError as error:
        return failed_run_table(str(error), context)
    ids = match_segment_ids(result.features, result.centroids, result.center, result.scale,
                            previous_fit(history), config.match_max_distance)
    labels = ids.ids[result.labels - 1]
    explanation = explain_segments(
        result.matrix, apply_scaler(result.matrix, result.center, result.scale), labels,
        result.features, transforms, config.rules_max_depth, config.random_state)
    return run_table(result, ids, labels, explanation,
                     feature_fingerprint(frame, result.features), context)


def _as_table(rows: list[dict[str, Any]], context: RunContext) -> pd.DataFrame:
    """Rows as a typed frame, stamped with the run's number, id and time."""
    table = pd.DataFrame(rows, columns=list(COLUMNS)[3:])
    table.insert(0, "run_number", context.run_number)
    table.insert(1, "run_id", context.run_id)
    table.insert(2, "fitted_at", pd.Timestamp(context.fitted_at))
    return table.astype(COLUMNS)


def _input_rows(context: RunContext) -> list[dict[str, Any]]:
    rows = []
    for source, (raw, accepted) in sorted(context.input_rows.items()):
        rows.append({"section": "input", "feature": source, "metric": "raw_rows",
                     "value": float(raw)})
        rows.append({"section": "input", "feature": source, "metric": "accepted_rows",
                     "value": float(accepted)})
    return rows


def failed_run_table(reason: str, context: RunContext) -> pd.DataFrame:
    """A run that could not fit: the reason (config row `error`) and the inputs it saw."""
    rows = [{"section": "config", "metric": "error", "text_value": reason}, *_input_rows(context)]
    return _as_table(rows, context)


def run_table(
    result: SegmentationResult,
    ids: SegmentIds,
    labels: np.ndarray,
    explanation: Explanation,
    fingerprint: str,
    context: RunContext,
) -> pd.DataFrame:
    """The run as long rows (section, k, segment_id, feature, metric, value, text_value).

    Sections: config (settings, chosen K, fingerprint), input (raw and accepted rows per
    source), feature (used / excluded with reason), scaler (center, scale), centroid (scaled
    value per stable segment id), segment (fit-sample customers, matched/new/retired, drift),
    k_selection (metrics per K), quality (rule accuracy, macro F1), rule (text, customers,
    precision, recall), importance (variance explained, tree importance per feature).
    """
    rows: list[dict[str, Any]] = []

    def add(section: str, **values: Any) -> None:
        rows.append({"section": section, **values})

    config = result.config
    settings = {
        "scaler": config.scaler, "k_min": config.k_min, "k_max": config.k_max,
        "k_selection": "fixed" if config.n_segments is not None else config.k_selection,
        "random_state": config.random_state, "n_init": config.n_init,
        "fit_sample_size": config.fit_sample_size,
        "silhouette_sample_size": config.silhouette_sample_size,
        "match_max_distance": config.match_max_distance,
        "rules_max_depth": config.rules_max_depth,
        "chosen_k": result.chosen_k, "input_rows": result.n_rows,
        "fit_rows": result.n_fit_rows, "features": ",".join(result.features),
        "feature_fingerprint": fingerprint,
        "previous_run_number": ids.previous_run_number,
        "warnings": "; ".join(result.warnings) or None,
    }
    for key, value in settings.items():
        add("config", metric=key, text_value=None if value is None else str(value))
    rows.extend(_input_rows(context))
    for name in config.features:
        add("feature", feature=name, metric="status",
            text_value="used" if name in result.features else f"excluded: {result.excluded[name]}")
    for i, name in enumerate(result.features):
        add("scaler", feature=name, metric="center", value=float(result.center[i]))
        add("scaler", feature=name, metric="scale", value=float(result.scale[i]))
    for row, segment_id in enumerate(ids.ids):
        segment = int(segment_id)
        for i, name in enumerate(result.features):
            add("centroid", segment_id=segment, feature=name, metric="scaled",
                value=float(result.centroids[row, i]))
        add("segment", segment_id=segment, metric="fit_customers",
            value=float(np.sum(labels == segment)), text_value=ids.status[row])
        add("segment", segment_id=segment, metric="drift",
            value=None if np.isnan(ids.drift[row]) else float(ids.drift[row]),
            text_value=ids.status[row])
    for segment in ids.retired:
        add("segment", segment_id=segment, metric="retired", text_value="retired")
    for record in result.k_metrics.to_dict("records"):
        k = int(record.pop("k"))
        for metric, value in record.items():
            add("k_selection", k=k, metric=metric, value=float(value))
        add("k_selection", k=k, metric="is_chosen", value=float(k == result.chosen_k))
    add("quality", metric="rules_accuracy", value=explanation.accuracy)
    add("quality", metric="rules_macro_f1", value=explanation.macro_f1)
    for record in explanation.rules.to_dict("records"):
        for metric in ("customers", "precision", "recall"):
            add("rule", k=int(record["rule_number"]), segment_id=int(record["segment_id"]),
                metric=metric, value=float(record[metric]), text_value=record["rule"])
    for record in explanation.importance.to_dict("records"):
        for metric in ("variance_explained", "tree_importance"):
            add("importance", feature=record["feature"], metric=metric,
                value=float(record[metric]))
    return _as_table(rows, context)
