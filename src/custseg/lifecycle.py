"""Stable segment ids across retrains, and which runs of a history are fits.

A new fit's centroids are matched to the centroids of the most recent fit in the same feature
space (the same clustering columns - numeric features and categorical levels - with the same
transforms, and the same scaler), not only of the run before: trying other settings and going
back finds the earlier fit again. Matching is an optimal assignment (Hungarian algorithm on
Euclidean distances in the new fit's scaled units); a new centroid keeps the id of the centroid
it is matched to when they are at most `max_distance` apart, and every other new centroid gets
a new id above the highest id ever used, so a retired id is never reused. Without an earlier
fit in the same space every segment is new.

A run is a fit (run_type `fit`) or a scoring with the latest fit (`score`, custseg.refit):
`latest_fit` and `latest_run` are the two definitions of "latest" in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class PreviousFit:
    """What the previous run left in the history: enough to match a new fit against it."""

    run_number: int
    features: list[str]  # the fit's columns: numeric features, `feature=level` indicators
    segment_ids: np.ndarray  # one per row of centroids
    centroids: np.ndarray  # prepared-feature units (scaled * scale + center)
    max_segment_id: int  # highest id any run ever used
    space: tuple | None = None  # fit_space of the fit; None: compare features only
    live_ids: tuple[int, ...] | None = None  # the latest fit's ids; None: segment_ids


@dataclass(frozen=True)
class SegmentIds:
    """The ids a new fit's segments get, and how each relates to the previous run."""

    ids: np.ndarray  # stable id per centroid row of the new fit
    status: list[str]  # matched | new, per centroid row
    drift: np.ndarray  # distance to the matched previous centroid (nan when new)
    retired: list[int]  # previous ids with no successor
    previous_run_number: int | None


def is_fit(run: Mapping[str, Any]) -> bool:
    """Whether a run of the history fitted segments: a fit run without an error."""
    return run["error"] is None and run.get("run_type", "fit") == "fit"


def latest_fit(history: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The latest run of a history (segment_model rows) that fitted. None without one.

    The fit a build scores with (unless it fits again) and that new fits are matched to. The
    SQL twin is the macro latest_fit_run_number (int_segment_fit holds that run).
    """
    fitted = [run for run in history if is_fit(run)]
    return max(fitted, key=lambda run: int(run["run_number"]), default=None)


def latest_run(history: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The newest run of a history, fit or score, failed or not (SQL: latest_run_number)."""
    return max(history, key=lambda run: int(run["run_number"]), default=None)


def _columns(run: Mapping[str, Any]) -> list[tuple[str, float, float, str | None]]:
    """A fit's columns in fit order: each numeric feature (name, center, scale, transform),
    or a categorical feature's levels (`feature=level`, center, scale, 'indicator')."""
    used = sorted((f for f in run["features"] if f["is_used"]),
                  key=lambda f: f["feature_order"])
    levels = sorted(run.get("levels") or [], key=lambda level: level["level_order"])
    columns: list[tuple[str, float, float, str | None]] = []
    for f in used:
        own = [level for level in levels if level["feature"] == f["feature"]]
        if own:
            columns += [(f"{level['feature']}={level['level']}", level["scaler_center"],
                         level["scaler_scale"], "indicator") for level in own]
        else:
            columns.append((f["feature"], f["scaler_center"], f["scaler_scale"],
                            f.get("transform")))
    return columns


def fit_space(scaler: str | None, columns: Sequence[tuple[str, str | None]]) -> tuple:
    """A fit's feature space: its scaler and its columns with their transforms. Centroids of
    two fits are only compared (and ids carried over) within one space."""
    return (scaler, tuple((name, transform or "none") for name, transform in columns))


def stored_fit_space(run: Mapping[str, Any]) -> tuple:
    """fit_space of a stored fit."""
    return fit_space(run["scaler"], [(name, transform)
                                      for name, _, _, transform in _columns(run)])


def previous_fit(history: Sequence[Mapping[str, Any]],
                 space: tuple | None = None) -> PreviousFit | None:
    """The fit a new fit's ids are matched to: the most recent fit in `space` (any fit's
    space when None), else the latest fit (whose space then differs: every segment is new).
    With the ids the latest fit has in use and the highest id ever used. None without a fit.

    Failed runs and score runs are skipped.
    """
    latest = latest_fit(history)
    if latest is None:
        return None
    same_space = [run for run in history if is_fit(run) and (
        space is None or stored_fit_space(run) == space)]
    reference = max(same_space, key=lambda run: int(run["run_number"]), default=latest)
    columns = _columns(reference)
    features = [name for name, _, _, _ in columns]
    center = np.array([c for _, c, _, _ in columns], dtype=float)
    scale = np.array([s for _, _, s, _ in columns], dtype=float)
    segment_ids = _segment_ids(reference)
    value = {(int(c["segment_id"]), c["feature"]): c["centroid_scaled"]
             for c in reference["centroids"]}
    value.update({(int(c["segment_id"]), f"{c['feature']}={c['level']}"): c["centroid_scaled"]
                  for c in reference.get("level_centroids") or []})
    scaled = np.array([[value[(sid, name)] for name in features] for sid in segment_ids],
                      dtype=float).reshape(len(segment_ids), len(features))
    ever_used = [int(s["segment_id"]) for run in history for s in run["segments"]]
    return PreviousFit(
        run_number=int(reference["run_number"]), features=features,
        segment_ids=np.array(segment_ids, dtype=int), centroids=scaled * scale + center,
        max_segment_id=max(ever_used, default=0),
        space=stored_fit_space(reference) if space is not None else None,
        live_ids=tuple(_segment_ids(latest)))


def _segment_ids(run: Mapping[str, Any]) -> list[int]:
    """The ids of a fit's segments (those with centroids), ascending."""
    return sorted({int(c["segment_id"]) for c in run["centroids"]}
                  | {int(c["segment_id"]) for c in run.get("level_centroids") or []})


def match_segment_ids(
    features: list[str],
    centroids_scaled: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    previous: PreviousFit | None,
    max_distance: float,
    space: tuple | None = None,
) -> SegmentIds:
    """Give each new centroid (rows of centroids_scaled, in size order) a stable segment id.

    Without a previous fit the ids are 1..K in row order (the first fit numbers segments by
    size); otherwise centroids matched to the previous fit (same features and, when `space`
    is given, the same feature space) keep their id and the rest count up from the highest id
    ever used, in row order. Retired: the ids the latest fit had in use that this fit drops.
    """
    k = len(centroids_scaled)
    if previous is None:
        return SegmentIds(ids=np.arange(1, k + 1), status=["new"] * k,
                          drift=np.full(k, np.nan), retired=[], previous_run_number=None)
    ids = np.zeros(k, dtype=int)
    drift = np.full(k, np.nan)
    comparable = previous.features == features and (
        space is None or previous.space is None or previous.space == space)
    if comparable:
        previous_scaled = (previous.centroids - center) / scale
        cost = np.linalg.norm(centroids_scaled[:, None, :] - previous_scaled[None, :, :], axis=2)
        for row, column in zip(*linear_sum_assignment(cost), strict=True):
            if cost[row, column] <= max_distance:
                ids[row] = previous.segment_ids[column]
                drift[row] = cost[row, column]
    next_id = previous.max_segment_id
    status = []
    for row in range(k):
        if ids[row] == 0:
            next_id += 1
            ids[row] = next_id
            status.append("new")
        else:
            status.append("matched")
    live = previous.live_ids if previous.live_ids is not None else tuple(
        int(i) for i in previous.segment_ids)
    kept = {int(i) for i in ids}
    retired = sorted(int(i) for i in live if int(i) not in kept)
    return SegmentIds(ids=ids, status=status, drift=drift, retired=retired,
                      previous_run_number=previous.run_number)
