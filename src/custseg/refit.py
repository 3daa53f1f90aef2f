"""Train once, score every build: whether a build fits the segments again or scores with the
latest fit (var refit, README "The segment lifecycle").

- `always`: every build fits (the project's behaviour before the refit policy);
- `never`: every build scores with the latest fit; without one the build stops;
- `auto` (default): a build fits when there is no fit yet, when the fit settings or the
  features asked for changed, when the latest fit is older than var refit_after_days (days
  between the fit's as_of_date and this build's), or when one of the drift checks
  (custseg.scoring.drift_checks) is over its threshold; otherwise it scores.

The decision and its reason, in words ("drift: monetary PSI 0.41 > 0.25", "fit is 31 days
old"), are stored with the run (segment_model.run_type, reason).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from custseg.clustering import SegmentationConfig, SegmentationError, _number, _whole_number
from custseg.scoring import DriftThresholds

REFIT_MODES = ("auto", "always", "never")
MAX_LISTED_DRIFTS = 3
"""A reason names at most this many drifted checks (the largest), then how many more."""


@dataclass(frozen=True)
class RefitPolicy:
    """The refit vars: refit, refit_after_days and the drift thresholds."""

    refit: str = "auto"
    refit_after_days: int = 30
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)

    def __post_init__(self) -> None:
        if self.refit not in REFIT_MODES:
            raise SegmentationError(f"var refit must be one of {', '.join(REFIT_MODES)}, got "
                                    f"{self.refit!r}")
        if self.refit_after_days < 0:
            raise SegmentationError(
                f"var refit_after_days must be 0 or more, got {self.refit_after_days}")

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> RefitPolicy:
        """From the vars (refit, refit_after_days, drift_psi_threshold, drift_share_threshold,
        drift_distance_threshold); null means the default."""
        values = {key: value for key, value in settings.items() if value is not None}
        defaults = DriftThresholds()
        thresholds = DriftThresholds(
            psi=_number("drift_psi_threshold", values.get("drift_psi_threshold", defaults.psi)),
            share=_number("drift_share_threshold",
                          values.get("drift_share_threshold", defaults.share)),
            distance=_number("drift_distance_threshold",
                             values.get("drift_distance_threshold", defaults.distance)))
        return cls(refit=str(values.get("refit", "auto")),
                   refit_after_days=_whole_number("refit_after_days",
                                                  values.get("refit_after_days", 30)),
                   thresholds=thresholds)


@dataclass(frozen=True)
class Decision:
    """Fit or score, and why, in words."""

    refit: bool
    reason: str


def fit_settings(config: SegmentationConfig,
                 preparation: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What a fit with `config` is made of, comparable with `stored_fit_settings` of a run:
    the features asked for, every setting of the fit and how each numeric feature is
    prepared (the feature catalogue's transform and imputation)."""
    return {
        "features": tuple(config.features),
        "scaler": config.scaler,
        "k_min": config.k_min, "k_max": config.k_max,
        "k_selection": "fixed" if config.n_segments is not None else config.k_selection,
        "n_segments": config.n_segments, "random_state": config.random_state,
        "n_init": config.n_init, "fit_sample_size": config.fit_sample_size,
        "silhouette_sample_size": config.silhouette_sample_size,
        "match_max_distance": float(config.match_max_distance),
        "rules_max_depth": config.rules_max_depth,
        "min_level_share": float(config.min_level_share),
        "outlier_fraction": float(config.outlier_fraction),
        "winsorize_percentiles": tuple(float(p) for p in config.winsorize_percentiles),
        "preparation": tuple(
            (name, preparation[name]["transform"], preparation[name]["impute_strategy"])
            for name in config.features if name in preparation),
    }


def stored_fit_settings(run: Mapping[str, Any]) -> dict[str, Any]:
    """`fit_settings` of a stored fit (a row of segment_model)."""
    features = sorted(run["features"], key=lambda f: f["feature_order"])
    return {
        "features": tuple(f["feature"] for f in features),
        **{key: run[key] for key in (
            "scaler", "k_min", "k_max", "k_selection", "n_segments", "random_state", "n_init",
            "fit_sample_size", "silhouette_sample_size", "rules_max_depth")},
        "match_max_distance": float(run["match_max_distance"]),
        "min_level_share": float(run["min_level_share"]),
        "outlier_fraction": float(run["outlier_fraction"]),
        "winsorize_percentiles": (float(run["winsorize_lower"]), float(run["winsorize_upper"])),
        "preparation": tuple((f["feature"], f["transform"], f["impute_strategy"])
                             for f in features if f["transform"] is not None),
    }


def _text(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(_text(item) for item in value) or "none"
    return "none" if value is None else str(value)


def settings_changes(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What differs between the latest fit's settings and this build's, in words."""
    changes = []
    for key, value in current.items():
        before = stored.get(key)
        if before == value:
            continue
        if key == "features":
            changes.append(f"features changed: {_text(before)} → {_text(value)}")
        elif key == "preparation":
            old = {name: (transform, impute) for name, transform, impute in before or ()}
            for name, transform, impute in value:
                if name in old and old[name] != (transform, impute):
                    changes.append(f"preparation of {name} changed: {'/'.join(old[name])} → "
                                   f"{transform}/{impute}")
        else:
            changes.append(f"setting {key} changed: {_text(before)} → {_text(value)}")
    return changes


def fit_age_days(fit_as_of: date | None, as_of: date | None) -> int | None:
    """Days from the fit's as_of_date to this build's (None when either is unknown)."""
    if fit_as_of is None or as_of is None:
        return None
    return (as_of - fit_as_of).days


def _days(days: int) -> str:
    return f"{days} day{'' if days == 1 else 's'}"


def drift_reason(checks: Sequence[Mapping[str, Any]]) -> str | None:
    """'drift: monetary PSI 0.41 > 0.25, ...' for the drifted checks (most drifted first),
    None when nothing drifted."""
    drifted = sorted((c for c in checks if c["is_drifted"]),
                     key=lambda c: -c["value"] / c["threshold"] if c["threshold"] else 0)
    if not drifted:
        return None
    named = [f"{c['check_name']} {c['value']:.2f} > {c['threshold']:.2f}"
             for c in drifted[:MAX_LISTED_DRIFTS]]
    more = len(drifted) - MAX_LISTED_DRIFTS
    return "drift: " + ", ".join(named) + (f" and {more} more" if more > 0 else "")


def decide(policy: RefitPolicy, latest_fit: Mapping[str, Any] | None,
           current_settings: Mapping[str, Any], as_of: date | None,
           checks: Sequence[Mapping[str, Any]]) -> Decision:
    """Fit or score with the latest fit, under `policy`, and the reason in words."""
    if latest_fit is None:
        if policy.refit == "never":
            return Decision(False, "refit: never, but there is no fit to score with yet: "
                                   "build once with var refit auto (the default) or always")
        return Decision(True, "no previous fit")
    if policy.refit == "always":
        return Decision(True, "refit: always")
    reasons = settings_changes(stored_fit_settings(latest_fit), current_settings)
    age = fit_age_days(latest_fit["as_of_date"], as_of)
    if age is not None and age > policy.refit_after_days:
        reasons.append(f"fit is {_days(age)} old")
    drift = drift_reason(checks)
    if drift:
        reasons.append(drift)
    if policy.refit == "never":
        return Decision(False, "; ".join(["refit: never", *reasons]))
    if reasons:
        return Decision(True, "; ".join(reasons))
    fit = int(latest_fit["run_number"])
    age_text = "" if age is None else f": {_days(age)} old"
    drift_text = ", no drift" if checks else ""
    return Decision(False, f"fit {fit} is current{age_text}{drift_text}")
