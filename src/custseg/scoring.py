"""Applying a stored fit in Python: what the fit measures about its own customers, and drift.

A fit (one run of the segment_model history) stores everything it learned: per numeric feature
the preparation (imputation value, winsorizing bounds, transform) and the scaler, per
categorical level its center and scale, the centroids and, per segment, the share of the
customers and the distances at fit time. `FitParameters.from_run` reads that stored form back;
nothing here looks at the data the fit was learned from again.

The build scores customers in SQL (macro assign_segment, and the predict_segment macros
rendered from the same Jinja). Python applies the same rules here for what the fit records
about itself (`segment_reference`, `reference_bins`) and for the drift checks a later build
makes before deciding whether to refit (`drift_checks`): the fit-time reference and the later
checks run through the same functions, so unchanged data has no drift at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custseg.clustering import MISSING_LEVEL, OTHER_LEVEL, level_text

PSI_BINS = 10
"""Reference bins per numeric feature: deciles of the fit-time values (ties merge bins)."""
PSI_FLOOR = 1e-4
"""A bin share below this counts as this in the PSI (an empty bin would make it infinite)."""


@dataclass(frozen=True)
class NumericFeature:
    """A numeric clustering feature as the fit prepares and scales it (raw units in, scaled
    units out): impute, winsorize, log1p when asked, then (x - center) / scale."""

    feature: str
    transform: str
    impute_value: float | None
    lower_bound: float | None
    upper_bound: float | None
    center: float
    scale: float

    def prepared(self, raw: np.ndarray) -> np.ndarray:
        """The prepared values (as macro prepare_features: coalesce, least(greatest()), ln(1+x)).

        Bounds the fit did not learn (None) clip nothing."""
        values = np.where(np.isnan(raw), np.nan if self.impute_value is None
                          else self.impute_value, raw)
        if self.lower_bound is not None:
            values = np.maximum(values, self.lower_bound)
        if self.upper_bound is not None:
            values = np.minimum(values, self.upper_bound)
        if self.transform == "log1p":
            values = np.log(1 + np.maximum(values, 0))
        return values


@dataclass(frozen=True)
class LevelColumn:
    """One level of a categorical clustering feature: its indicator, centered and scaled."""

    feature: str
    level: str
    center: float
    scale: float


@dataclass(frozen=True)
class FitParameters:
    """Everything a stored fit needs to score a customer, read from its run."""

    run_number: int
    numeric: list[NumericFeature]  # in the fit's feature order
    levels: list[LevelColumn]  # in level order
    segment_ids: np.ndarray  # ascending; one per centroid row
    centroids: np.ndarray  # scaled units; columns: numeric, then levels
    shares: np.ndarray  # share of all customers per segment at fit time (nan if unknown)
    outlier_distances: np.ndarray  # per segment (nan if unknown)
    mean_distance: float | None
    bins: list[Mapping[str, Any]]  # the stored reference_bins

    @classmethod
    def from_run(cls, run: Mapping[str, Any]) -> FitParameters:
        """The parameters of one fitted run (a row of RUN_SCHEMA as Python values)."""
        used = sorted((f for f in run["features"] if f["is_used"]),
                      key=lambda f: f["feature_order"])
        levels = sorted(run.get("levels") or [], key=lambda level: level["level_order"])
        categorical = {level["feature"] for level in levels}
        numeric = [NumericFeature(
            feature=f["feature"], transform=f.get("transform") or "none",
            impute_value=f.get("impute_value"), lower_bound=f.get("lower_bound"),
            upper_bound=f.get("upper_bound"), center=float(f["scaler_center"]),
            scale=float(f["scaler_scale"]))
            for f in used if f["feature"] not in categorical]
        level_columns = [LevelColumn(level["feature"], level["level"],
                                     float(level["scaler_center"]), float(level["scaler_scale"]))
                         for level in levels]
        live = [s for s in run["segments"] if s["status"] != "retired"]
        segment_ids = np.array(sorted(int(s["segment_id"]) for s in live), dtype=int)
        by_id = {int(s["segment_id"]): s for s in live}
        value = {(int(c["segment_id"]), c["feature"]): c["centroid_scaled"]
                 for c in run["centroids"]}
        value.update({(int(c["segment_id"]), (c["feature"], c["level"])): c["centroid_scaled"]
                      for c in run.get("level_centroids") or []})
        keys: list[Any] = [f.feature for f in numeric] + [(c.feature, c.level)
                                                           for c in level_columns]
        centroids = np.array([[value[(sid, key)] for key in keys] for sid in segment_ids],
                             dtype=float).reshape(len(segment_ids), len(keys))

        def stored(name: str) -> np.ndarray:
            return np.array([np.nan if by_id[sid].get(name) is None else by_id[sid][name]
                             for sid in segment_ids], dtype=float)

        return cls(run_number=int(run["run_number"]), numeric=numeric, levels=level_columns,
                   segment_ids=segment_ids, centroids=centroids, shares=stored("share"),
                   outlier_distances=stored("outlier_distance"),
                   mean_distance=run.get("mean_distance"),
                   bins=list(run.get("reference_bins") or []))

    @property
    def features(self) -> list[str]:
        """The clustering features: numeric ones, then categorical ones (by first level)."""
        categorical = list(dict.fromkeys(level.feature for level in self.levels))
        return [f.feature for f in self.numeric] + categorical


def scaled_matrix(raw: pd.DataFrame, fit: FitParameters) -> np.ndarray:
    """Every customer of `raw` (raw feature values, as int_customer_features holds them) as the
    fit's scaled columns: numeric features prepared and scaled, then one centered, scaled
    indicator per categorical level (a value the fit did not see counts as `other`)."""
    columns = [(f.prepared(raw[f.feature].to_numpy(dtype=float)) - f.center) / f.scale
               for f in fit.numeric]
    text = {feature: level_text(raw[feature]).to_numpy(dtype=object)
            for feature in dict.fromkeys(level.feature for level in fit.levels)}
    for level in fit.levels:
        named = [other.level for other in fit.levels
                 if other.feature == level.feature and other.level != OTHER_LEVEL]
        values = text[level.feature]
        indicator = (~np.isin(values, named) if level.level == OTHER_LEVEL
                     else values == level.level).astype(float)
        columns.append((indicator - level.center) / level.scale)
    if not columns:
        return np.zeros((len(raw), 0))
    return np.column_stack(columns)


@dataclass(frozen=True)
class Scores:
    """Each customer's nearest segment (ties: the lower id) and the distance to it."""

    segment_ids: np.ndarray
    distances: np.ndarray


def nearest(scaled: np.ndarray, fit: FitParameters) -> Scores:
    """The nearest centroid of each row (Euclidean, scaled units; the squared differences
    summed column by column, as the SQL scoring writes them)."""
    distances = np.empty((len(scaled), len(fit.segment_ids)))
    for row, centroid in enumerate(fit.centroids):
        total = np.zeros(len(scaled))
        for column in range(scaled.shape[1]):
            difference = scaled[:, column] - centroid[column]
            total = total + difference * difference
        distances[:, row] = np.sqrt(total)
    best = np.argmin(distances, axis=1)  # first minimum: the lower segment id
    return Scores(segment_ids=fit.segment_ids[best],
                  distances=distances[np.arange(len(scaled)), best])


def score(raw: pd.DataFrame, fit: FitParameters) -> Scores:
    """Score raw feature rows with a stored fit."""
    return nearest(scaled_matrix(raw, fit), fit)


@dataclass(frozen=True)
class SegmentReference:
    """What a fit records about its own customers, per segment (in segment id order)."""

    customers: np.ndarray
    shares: np.ndarray
    mean_distances: np.ndarray
    outlier_distances: np.ndarray
    mean_distance: float


def segment_reference(scores: Scores, segment_ids: np.ndarray,
                      outlier_fraction: float) -> SegmentReference:
    """Per segment: customers, their share, their mean distance to the centroid and the
    outlier distance - the (1 - outlier_fraction) quantile of their distances (linear
    interpolation), so that at fit time about `outlier_fraction` of each segment lies
    beyond it. A segment without customers gets 0 customers and null distances."""
    customers, means, thresholds = [], [], []
    for segment in segment_ids:
        distances = scores.distances[scores.segment_ids == segment]
        customers.append(len(distances))
        means.append(float(np.mean(distances)) if len(distances) else np.nan)
        thresholds.append(float(np.quantile(distances, 1 - outlier_fraction))
                          if len(distances) else np.nan)
    counts = np.array(customers, dtype=int)
    total = max(len(scores.distances), 1)
    return SegmentReference(
        customers=counts, shares=counts / total, mean_distances=np.array(means),
        outlier_distances=np.array(thresholds),
        mean_distance=float(np.mean(scores.distances)) if len(scores.distances) else np.nan)


def decile_edges(values: np.ndarray) -> np.ndarray:
    """The distinct deciles of the non-null values (an empty array when there are none)."""
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return np.array([])
    return np.unique(np.quantile(finite, np.arange(1, PSI_BINS) / PSI_BINS))


def bin_shares(raw: pd.DataFrame, bins: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """The share of the rows of `raw` in each of one feature's reference bins (in bin order).

    A numeric bin holds the values in (lower_edge, upper_edge] (a null edge is open), the bin
    with level 'missing' the null values; a categorical bin holds its level (values the bins do
    not name count as 'other')."""
    feature = bins[0]["feature"]
    total = max(len(raw), 1)
    if all(_given(b["level"]) for b in bins):  # a numeric feature has range bins
        text = level_text(raw[feature]).to_numpy(dtype=object)
        named = [b["level"] for b in bins if b["level"] != OTHER_LEVEL]
        text = np.where(np.isin(text, named), text, OTHER_LEVEL)
        return np.array([np.sum(text == b["level"]) / total for b in bins])
    values = raw[feature].to_numpy(dtype=float)
    shares = []
    for b in bins:
        if _given(b["level"]):  # the bin of missing values
            inside = np.isnan(values)
        else:
            inside = ~np.isnan(values)
            if _given(b["lower_edge"]):
                inside &= values > b["lower_edge"]
            if _given(b["upper_edge"]):
                inside &= values <= b["upper_edge"]
        shares.append(np.sum(inside) / total)
    return np.array(shares)


def _given(value: Any) -> bool:
    """Not null (None, or NaN in a pandas frame)."""
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def reference_bins(raw: pd.DataFrame, fit: FitParameters) -> list[dict[str, Any]]:
    """The reference distribution of each clustering feature at fit time, for the PSI: a
    numeric feature's decile bins of its raw values plus a bin of missing values; a
    categorical feature's levels (plus `other` when the fit has none). Each with its share of
    the customers."""
    rows: list[dict[str, Any]] = []
    for f in fit.numeric:
        edges = decile_edges(raw[f.feature].to_numpy(dtype=float))
        lowers = [None, *edges.tolist()]
        uppers = [*edges.tolist(), None]
        bins = [{"feature": f.feature, "bin_number": i, "lower_edge": lower,
                 "upper_edge": upper, "level": None}
                for i, (lower, upper) in enumerate(zip(lowers, uppers, strict=True), start=1)]
        bins.append({"feature": f.feature, "bin_number": len(bins) + 1, "lower_edge": None,
                     "upper_edge": None, "level": MISSING_LEVEL})
        rows += _with_shares(raw, bins)
    for feature in dict.fromkeys(level.feature for level in fit.levels):
        names = [level.level for level in fit.levels if level.feature == feature]
        if OTHER_LEVEL not in names:
            names.append(OTHER_LEVEL)
        bins = [{"feature": feature, "bin_number": i, "lower_edge": None, "upper_edge": None,
                 "level": name} for i, name in enumerate(names, start=1)]
        rows += _with_shares(raw, bins)
    return rows


def _with_shares(raw: pd.DataFrame, bins: list[dict[str, Any]]) -> list[dict[str, Any]]:
    shares = bin_shares(raw, bins)
    return [{**b, "share": float(share)} for b, share in zip(bins, shares, strict=True)]


def psi(current: np.ndarray, reference: np.ndarray) -> float:
    """Population stability index: sum over bins of (current - reference) * ln(current /
    reference), shares floored at PSI_FLOOR. 0 for the same distribution; 0.1 is commonly read
    as a moderate shift and 0.25 as a major one."""
    cur = np.maximum(np.asarray(current, dtype=float), PSI_FLOOR)
    ref = np.maximum(np.asarray(reference, dtype=float), PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@dataclass(frozen=True)
class DriftThresholds:
    """When a check counts as drifted (vars drift_psi_threshold, drift_share_threshold,
    drift_distance_threshold): value above threshold."""

    psi: float = 0.25
    share: float = 0.05
    distance: float = 1.25


def drift_checks(raw: pd.DataFrame, fit: FitParameters,
                 thresholds: DriftThresholds) -> list[dict[str, Any]]:
    """The current customers (`raw`) against a stored fit: each clustering feature's PSI
    against the fit's reference bins, each segment's share against its share at fit time
    (absolute change), and the mean distance to the assigned centroid against the fit's
    (ratio). One row per check, as RUN_SCHEMA's drift_checks."""
    checks: list[dict[str, Any]] = []

    def check(check_type: str, name: str, value: float, threshold: float, *,
              feature: str | None = None, segment_id: int | None = None,
              reference: float | None = None, current: float | None = None) -> None:
        checks.append({
            "check_name": name, "check_type": check_type, "feature": feature,
            "segment_id": segment_id, "fit_run_number": fit.run_number,
            "reference_value": reference, "current_value": current, "value": float(value),
            "threshold": float(threshold), "is_drifted": bool(value > threshold)})

    for feature in fit.features:
        bins = sorted((b for b in fit.bins if b["feature"] == feature),
                      key=lambda b: b["bin_number"])
        if bins:
            reference = np.array([b["share"] for b in bins])
            check("feature_psi", f"{feature} PSI", psi(bin_shares(raw, bins), reference),
                  thresholds.psi, feature=feature)
    scores = score(raw, fit)
    total = max(len(raw), 1)
    for segment, fit_share in zip(fit.segment_ids, fit.shares, strict=True):
        if np.isnan(fit_share):
            continue
        share = float(np.sum(scores.segment_ids == segment) / total)
        check("segment_share", f"segment {segment} share change", abs(share - fit_share),
              thresholds.share, segment_id=int(segment), reference=float(fit_share),
              current=share)
    if fit.mean_distance and len(raw):
        mean = float(np.mean(scores.distances))
        check("mean_distance", "mean distance ratio", mean / fit.mean_distance,
              thresholds.distance, reference=float(fit.mean_distance), current=mean)
    return checks
