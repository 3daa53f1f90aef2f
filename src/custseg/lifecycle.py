"""Stable segment ids across retrains.

A new fit's centroids are matched to the previous run's centroids by optimal assignment
(Hungarian algorithm on Euclidean distances in the new fit's scaled units). A new centroid keeps
the id of the previous centroid it is matched to when they are at most `max_distance` apart;
every other new centroid gets a new id above the highest id ever used, so a retired id is never
reused. Matching only happens when both fits use the same features: otherwise the spaces are not
comparable and every segment is new.
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


@dataclass(frozen=True)
class SegmentIds:
    """The ids a new fit's segments get, and how each relates to the previous run."""

    ids: np.ndarray  # stable id per centroid row of the new fit
    status: list[str]  # matched | new, per centroid row
    drift: np.ndarray  # distance to the matched previous centroid (nan when new)
    retired: list[int]  # previous ids with no successor
    previous_run_number: int | None


def latest_fit(history: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The latest run of a history (segment_model rows) that fitted: no error. None without one.

    What a new fit is matched to. The SQL side's latest run (int_segment_fit) is the same run:
    it stops the build when the newest run failed, so there the latest run is the latest fit.
    """
    fitted = [run for run in history if run["error"] is None]
    return max(fitted, key=lambda run: int(run["run_number"]), default=None)


def previous_fit(history: Sequence[Mapping[str, Any]]) -> PreviousFit | None:
    """What the latest fit of a history left: its features, centroids and the ids in use.

    Failed runs are skipped: ids are matched against the last real fit.
    """
    latest = latest_fit(history)
    if latest is None or not (latest["centroids"] or latest.get("level_centroids")):
        return None
    used = sorted((f for f in latest["features"] if f["is_used"]),
                  key=lambda f: f["feature_order"])
    levels = sorted(latest.get("levels") or [], key=lambda level: level["level_order"])
    # The fit's columns: a numeric feature, or a categorical one's levels (`feature=level`).
    columns: list[tuple[str, float, float]] = []
    for f in used:
        own = [level for level in levels if level["feature"] == f["feature"]]
        if own:
            columns += [(f"{level['feature']}={level['level']}", level["scaler_center"],
                         level["scaler_scale"]) for level in own]
        else:
            columns.append((f["feature"], f["scaler_center"], f["scaler_scale"]))
    features = [name for name, _, _ in columns]
    center = np.array([c for _, c, _ in columns], dtype=float)
    scale = np.array([s for _, _, s in columns], dtype=float)
    segment_ids = sorted({int(c["segment_id"]) for c in latest["centroids"]}
                         | {int(c["segment_id"]) for c in latest.get("level_centroids") or []})
    value = {(int(c["segment_id"]), c["feature"]): c["centroid_scaled"]
             for c in latest["centroids"]}
    value.update({(int(c["segment_id"]), f"{c['feature']}={c['level']}"): c["centroid_scaled"]
                  for c in latest.get("level_centroids") or []})
    scaled = np.array([[value[(sid, name)] for name in features] for sid in segment_ids],
                      dtype=float)
    ever_used = [int(s["segment_id"]) for run in history for s in run["segments"]]
    return PreviousFit(
        run_number=int(latest["run_number"]), features=features,
        segment_ids=np.array(segment_ids, dtype=int), centroids=scaled * scale + center,
        max_segment_id=max(ever_used))


def match_segment_ids(
    features: list[str],
    centroids_scaled: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    previous: PreviousFit | None,
    max_distance: float,
) -> SegmentIds:
    """Give each new centroid (rows of centroids_scaled, in size order) a stable segment id.

    Without a comparable previous fit the ids are 1..K in row order (the first fit numbers
    segments by size); otherwise matched centroids keep their id and the rest count up from
    the highest id ever used, in row order.
    """
    k = len(centroids_scaled)
    if previous is None:
        return SegmentIds(ids=np.arange(1, k + 1), status=["new"] * k,
                          drift=np.full(k, np.nan), retired=[], previous_run_number=None)
    ids = np.zeros(k, dtype=int)
    drift = np.full(k, np.nan)
    matched_previous: set[int] = set()
    if previous.features == features:
        previous_scaled = (previous.centroids - center) / scale
        cost = np.linalg.norm(centroids_scaled[:, None, :] - previous_scaled[None, :, :], axis=2)
        for row, column in zip(*linear_sum_assignment(cost), strict=True):
            if cost[row, column] <= max_distance:
                ids[row] = previous.segment_ids[column]
                drift[row] = cost[row, column]
                matched_previous.add(int(previous.segment_ids[column]))
    next_id = previous.max_segment_id
    status = []
    for row in range(k):
        if ids[row] == 0:
            next_id += 1
            ids[row] = next_id
            status.append("new")
        else:
            status.append("matched")
    retired = sorted(int(i) for i in previous.segment_ids if int(i) not in matched_previous)
    return SegmentIds(ids=ids, status=status, drift=drift, retired=retired,
                      previous_run_number=previous.run_number)
