"""Unit tests of train once, score every build: the refit decision (custseg.refit), the stored
fit applied in Python (custseg.scoring: preparation, PSI, outlier distances) and the runs
segmentation_run appends (custseg.run), on small synthetic data."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from custseg.clustering import SegmentationConfig
from custseg.lifecycle import latest_fit, latest_run
from custseg.refit import RefitPolicy, decide, drift_reason, fit_settings, stored_fit_settings
from custseg.run import RunContext, as_table, fit_run, next_run_number, segmentation_run
from custseg.scoring import (
    FitParameters,
    NumericFeature,
    Scores,
    bin_shares,
    psi,
    score,
    segment_reference,
)

CENTERS = np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 20.0]])
AS_OF = date(2026, 1, 31)


def customers(n_per: int = 100, seed: int = 0, shift: float = 0.0,
              prefix: str = "c") -> pd.DataFrame:
    """Three Gaussian blobs (x, y); x moved by `shift`."""
    rng = np.random.default_rng(seed)
    points = np.vstack([rng.normal(c, 1.0, size=(n_per, 2)) for c in CENTERS])
    points[:, 0] += shift
    return pd.DataFrame({"customer_id": [f"{prefix}{i:04d}" for i in range(len(points))],
                         "x": points[:, 0], "y": points[:, 1]})


def preparation(frame: pd.DataFrame, transform: str = "none") -> dict[str, dict]:
    """What int_feature_bounds would learn: 1% / 99% bounds, the median to impute."""
    return {name: {"transform": transform, "impute_strategy": "median",
                   "impute_value": float(frame[name].median()),
                   "lower_bound": float(frame[name].quantile(0.01)),
                   "upper_bound": float(frame[name].quantile(0.99))}
            for name in ("x", "y")}


SETTINGS = {"features": ["x", "y"], "n_segments": 3, "n_init": 4}


def build(raw: pd.DataFrame, history: list, as_of: date = AS_OF, policy: dict | None = None,
          prepared_with: pd.DataFrame | None = None, **settings) -> list:
    """The history after one more run of segmentation_run on `raw` (the fit, when there is
    one, sees `raw` prepared with the bounds learned from `prepared_with`, default raw)."""
    learned = preparation(raw if prepared_with is None else prepared_with)

    def load_prepared(features: tuple[str, ...]) -> pd.DataFrame:
        frame = raw.copy()
        for name in features:
            entry = learned[name]
            frame[name] = NumericFeature(name, entry["transform"], entry["impute_value"],
                                         entry["lower_bound"], entry["upper_bound"], 0.0,
                                         1.0).prepared(raw[name].to_numpy(float))
        return frame

    context = RunContext(run_number=next_run_number(history), run_id="test",
                         fitted_at=datetime(2026, 2, 1), input_rows={"customers": (1, 1)},
                         as_of_date=as_of)
    run = segmentation_run(raw, load_prepared, {**SETTINGS, **settings}, learned,
                           policy or {}, history, context)
    return as_table([*history, run]).to_pylist()


def test_the_first_build_fits_and_stores_its_preparation():
    raw = customers()
    (run,) = build(raw, [])
    assert (run["run_type"], run["reason"], run["fit_run_number"]) == ("fit", "no previous fit", 1)
    stored = {f["feature"]: f for f in run["features"]}
    learned = preparation(raw)
    for name in ("x", "y"):
        assert {key: stored[name][key] for key in learned[name]} == learned[name]
    assert run["as_of_date"] == AS_OF and run["refit"] == "auto"
    assert run["refit_after_days"] == 30 and run["outlier_fraction"] == 0.01


def test_an_unchanged_population_is_scored_with_the_fit_and_shows_no_drift():
    raw = customers()
    history = build(raw, build(raw, []))
    score_run = history[-1]
    assert score_run["run_type"] == "score" and score_run["fit_run_number"] == 1
    assert score_run["reason"] == "fit 1 is current: 0 days old, no drift"
    assert score_run["centroids"] == [] and score_run["customers"] == len(raw)
    checks = pd.DataFrame(score_run["drift_checks"])
    assert set(checks["check_type"]) == {"feature_psi", "segment_share", "mean_distance"}
    assert len(checks) == 2 + 3 + 1 and not checks["is_drifted"].any()
    # The same customers against the fit's own record of them: no drift at all.
    assert checks.loc[checks.check_type != "mean_distance", "value"].abs().max() == 0
    assert checks.loc[checks.check_type == "mean_distance", "value"].item() == 1.0
    assert latest_fit(history)["run_number"] == 1 and latest_run(history)["run_number"] == 2


def test_scoring_uses_the_fits_bounds_not_the_current_populations():
    raw = customers()
    history = build(raw, [])
    # The population changes (half of it far away), and with it what int_feature_bounds
    # would learn now; an unchanged customer keeps its segment and distance exactly.
    moved = pd.concat([raw, customers(seed=5, shift=40.0, prefix="m")], ignore_index=True)
    history = build(moved, history, policy={"refit": "never"}, prepared_with=moved)
    fit = FitParameters.from_run(history[0])
    assert history[-1]["run_type"] == "score"
    before = score(raw, fit)
    after = score(moved, fit)
    np.testing.assert_array_equal(after.segment_ids[:len(raw)], before.segment_ids)
    np.testing.assert_array_equal(after.distances[:len(raw)], before.distances)


def test_auto_refits_on_drift_and_names_the_drifted_checks():
    history = build(customers(), [])
    drifted = customers(seed=3, shift=6.0)
    history = build(drifted, history)
    run = history[-1]
    assert run["run_type"] == "fit" and run["reason"].startswith("drift: x PSI ")
    (x_check,) = [c for c in run["drift_checks"] if c["check_name"] == "x PSI"]
    assert x_check["is_drifted"] and x_check["fit_run_number"] == 1
    assert f"x PSI {x_check['value']:.2f} > 0.25" in run["reason"]
    # The checks stored with the fit are those against the previous fit (the reason for it).
    assert {c["fit_run_number"] for c in run["drift_checks"]} == {1}


def test_never_scores_a_drifted_population_and_says_what_it_would_have_done():
    history = build(customers(seed=3, shift=6.0), build(customers(), []),
                    policy={"refit": "never"})
    run = history[-1]
    assert run["run_type"] == "score" and run["reason"].startswith("refit: never; drift: x PSI")


def test_never_without_a_fit_is_a_failed_run_with_one_line():
    (run,) = build(customers(), [], policy={"refit": "never"})
    assert run["run_type"] == "score" and run["error"].startswith(
        "refit: never, but there is no fit to score with yet")


def test_always_refits_unchanged_data_and_keeps_the_ids():
    raw = customers()
    history = build(raw, build(raw, []), policy={"refit": "always"})
    assert history[-1]["run_type"] == "fit" and history[-1]["reason"] == "refit: always"
    assert {s["status"] for s in history[-1]["segments"]} == {"matched"}


def test_auto_refits_when_the_fit_is_older_than_refit_after_days():
    raw = customers()
    history = build(raw, [])
    history = build(raw, history, as_of=date(2026, 3, 2))  # 30 days: not older
    assert history[-1]["run_type"] == "score"
    history = build(raw, history, as_of=date(2026, 3, 3))
    assert (history[-1]["run_type"], history[-1]["reason"]) == ("fit", "fit is 31 days old")
    history = build(raw, history, as_of=date(2026, 3, 5), policy={"refit_after_days": 1})
    assert history[-1]["reason"] == "fit is 2 days old"


def test_auto_refits_when_settings_or_preparation_change():
    raw = customers()
    history = build(raw, [])
    history = build(raw, history, scaler="robust")
    assert history[-1]["reason"] == "setting scaler changed: standard → robust"
    history = build(raw, history, scaler="robust", features=["x"])
    assert history[-1]["reason"] == "features changed: x, y → x"
    latest = latest_fit(history)
    current = fit_settings(
        SegmentationConfig.from_mapping({**SETTINGS, "scaler": "robust", "features": ["x"]}),
        preparation(raw, transform="log1p"))
    decision = decide(RefitPolicy(), latest, current, AS_OF, [])
    assert decision.refit and decision.reason == (
        "preparation of x changed: none/median → log1p/median")
    assert stored_fit_settings(latest)["features"] == ("x",)


def test_a_bad_refit_var_is_a_failed_run():
    (run,) = build(customers(), [], policy={"refit": "sometimes"})
    assert run["error"] == "var refit must be one of auto, always, never, got 'sometimes'"


def test_ids_come_back_when_settings_return_to_an_earlier_fit():
    """n_segments 3, then scaler robust, then back: the third fit is the first one again and
    gets its ids back (the robust fit is another feature space: new ids)."""
    raw = customers()
    first = build(raw, [])
    robust = build(raw, first, scaler="robust")
    back = build(raw, robust)
    ids = [sorted(s["segment_id"] for s in run["segments"] if s["status"] != "retired")
           for run in back]
    assert ids == [[1, 2, 3], [4, 5, 6], [1, 2, 3]]
    assert back[-1]["previous_run_number"] == 1
    assert {s["status"] for s in back[-1]["segments"] if s["segment_id"] <= 3} == {"matched"}
    # The robust fit's ids are retired by the fit that replaces it.
    assert sorted(s["segment_id"] for s in back[-1]["segments"]
                  if s["status"] == "retired") == [4, 5, 6]


def test_psi_equals_the_textbook_formula():
    reference = np.array([0.5, 0.3, 0.2])
    current = np.array([0.3, 0.3, 0.4])
    expected = (0.3 - 0.5) * np.log(0.3 / 0.5) + 0 + (0.4 - 0.2) * np.log(0.4 / 0.2)
    assert psi(current, reference) == pytest.approx(expected, rel=1e-12)
    assert psi(reference, reference) == 0
    # An empty bin counts as 0.0001, so the index stays finite.
    assert np.isfinite(psi(np.array([1.0, 0.0]), np.array([0.5, 0.5])))


def test_reference_bins_are_deciles_plus_a_missing_bin_and_hold_their_shares():
    raw = customers()
    raw.loc[:9, "x"] = np.nan
    (run,) = build(raw, [])
    bins = pd.DataFrame([b for b in run["reference_bins"] if b["feature"] == "x"])
    assert len(bins) == 11 and bins["level"].fillna("").tolist() == [""] * 10 + ["missing"]
    assert bins["share"].sum() == pytest.approx(1.0)
    assert bins["share"].iloc[-1] == pytest.approx(10 / len(raw))
    # Independently: pandas' right-closed cut on the stored edges gives the stored shares.
    edges = [-np.inf, *bins["upper_edge"].iloc[:9], np.inf]
    counts = pd.cut(raw["x"], edges, right=True).value_counts(sort=False).to_numpy()
    np.testing.assert_allclose(bins["share"].iloc[:10], counts / len(raw), rtol=1e-12)
    np.testing.assert_allclose(bin_shares(raw, bins.to_dict("records")), bins["share"])


def test_outlier_distance_flags_the_outlier_fraction_at_fit_time():
    rng = np.random.default_rng(0)
    distances = rng.gamma(2.0, 1.0, size=1000)
    labels = np.repeat([1, 2], 500)
    reference = segment_reference(Scores(labels, distances), np.array([1, 2]), 0.01)
    for i, segment in enumerate((1, 2)):
        own = distances[labels == segment]
        assert np.sum(own > reference.outlier_distances[i]) == 5
    assert reference.shares.tolist() == [0.5, 0.5]
    assert reference.mean_distance == pytest.approx(distances.mean())


def test_a_planted_far_customer_is_beyond_its_segments_outlier_distance():
    raw = customers()
    planted = pd.DataFrame({"customer_id": ["z999"], "x": [5.0], "y": [-6.0]})
    (run,) = build(pd.concat([raw, planted], ignore_index=True), [])
    fit = FitParameters.from_run(run)
    scores = score(planted, fit)
    i = int(np.flatnonzero(fit.segment_ids == scores.segment_ids[0])[0])
    assert scores.distances[0] > fit.outlier_distances[i]
    flagged = sum(np.sum(score(raw, fit).distances[score(raw, fit).segment_ids == s]
                         > fit.outlier_distances[j]) for j, s in enumerate(fit.segment_ids))
    assert flagged <= 0.01 * len(raw) + 3


def test_drift_reason_lists_the_worst_checks_first():
    checks = [{"check_name": f"f{i} PSI", "value": 0.3 + i / 10, "threshold": 0.25,
               "is_drifted": True} for i in range(5)]
    assert drift_reason(checks) == ("drift: f4 PSI 0.70 > 0.25, f3 PSI 0.60 > 0.25, "
                                    "f2 PSI 0.50 > 0.25 and 2 more")
    assert drift_reason([{**checks[0], "is_drifted": False}]) is None


def test_fit_run_keeps_working_without_a_raw_frame():
    raw = customers()
    (run,) = as_table([fit_run(raw, SETTINGS, preparation(raw), [], RunContext(
        1, "t", datetime(2026, 1, 1), {}))]).to_pylist()
    assert run["run_type"] == "fit" and sum(s["customers"] for s in run["segments"]) == len(raw)
    assert sum(s["share"] for s in run["segments"]) == pytest.approx(1.0)
