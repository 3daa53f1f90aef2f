"""Unit tests of stable ids (custseg.lifecycle), rules (custseg.explain) and runs (custseg.run)."""

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from custseg.clustering import SegmentationConfig, fit_segments
from custseg.explain import explain_segments, leaf_conditions, rule_text, variance_explained
from custseg.lifecycle import PreviousFit, latest_fit, match_segment_ids, previous_fit
from custseg.run import (
    PURCHASE_SOURCE,
    RUN_SCHEMA,
    DefaultFeatures,
    Run,
    RunContext,
    as_table,
    check_history_columns,
    failed_run,
    feature_fingerprint,
    fit_run,
    input_rows,
    next_run_number,
    resolve_features,
    segmentation_run,
)

CENTERS = np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 20.0], [20.0, 0.0]])


def customers(centers: np.ndarray, n_per: int = 80, seed: int = 0, shift: float = 0.0,
              prefix: str = "c") -> pd.DataFrame:
    """Gaussian blobs around `centers` (x, y), moved by `shift`; x is also a money-like value."""
    rng = np.random.default_rng(seed)
    points = np.vstack([rng.normal(c + shift, 1.0, size=(n_per, 2)) for c in centers])
    return pd.DataFrame({"customer_id": [f"{prefix}{i:04d}" for i in range(len(points))],
                         "x": points[:, 0], "y": points[:, 1]})


def config(**overrides) -> SegmentationConfig:
    settings = {"features": ("x", "y"), "n_segments": 3, "n_init": 4}
    return SegmentationConfig(**{**settings, **overrides})


def context(history: list[Run]) -> RunContext:
    return RunContext(run_number=next_run_number(history), run_id="test-run",
                      fitted_at=datetime(2026, 1, 1), input_rows={"customers": (10, 9)})


def preparation(*names: str) -> dict[str, dict]:
    """Features used as they are: no transform, no bounds, nothing to impute."""
    return {name: {"transform": "none", "impute_strategy": "median", "impute_value": None,
                   "lower_bound": None, "upper_bound": None} for name in names}


def run(frame: pd.DataFrame, history: list[Run] | None = None, **overrides) -> list[Run]:
    """The history after one more fit, read back through the stored table's types."""
    history = history or []
    settings = {"features": ["x", "y"], "n_segments": 3, "n_init": 4, **overrides}
    new = fit_run(frame, settings, preparation("x", "y"), history, context(history))
    return as_table([*history, new]).to_pylist()


def centroids_by_id(history: list[Run], run_number: int) -> pd.DataFrame:
    (fit,) = [r for r in history if r["run_number"] == run_number]
    return pd.DataFrame(fit["centroids"]).pivot(
        index="segment_id", columns="feature", values="centroid_scaled")


def latest_segments(history: list[Run]) -> pd.DataFrame:
    """One row per segment of the latest run (segment_id, status, fit_customers, drift)."""
    return pd.DataFrame(max(history, key=lambda r: r["run_number"])["segments"])


def test_first_fit_numbers_segments_by_size():
    ids = match_segment_ids(["x"], np.zeros((3, 1)), np.zeros(1), np.ones(1), None, 1.0)
    assert ids.ids.tolist() == [1, 2, 3] and ids.status == ["new"] * 3 and ids.retired == []


def test_matching_keeps_ids_gives_new_ids_above_the_highest_ever_and_retires_the_rest():
    previous = PreviousFit(run_number=4, features=["x", "y"], segment_ids=np.array([2, 5, 7]),
                           centroids=np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 20.0]]),
                           max_segment_id=9)
    # New fit (rows in size order): near 7, near 2, and one far from everything.
    new = np.array([[0.1, 19.8], [0.2, -0.1], [30.0, 30.0]])
    ids = match_segment_ids(["x", "y"], new, np.zeros(2), np.ones(2), previous, 1.0)
    assert ids.ids.tolist() == [7, 2, 10]
    assert ids.status == ["matched", "matched", "new"]
    assert ids.retired == [5]  # 5 has no successor and is never given out again
    np.testing.assert_allclose(ids.drift[:2], [np.hypot(0.1, 0.2), np.hypot(0.2, 0.1)])
    assert np.isnan(ids.drift[2]) and ids.previous_run_number == 4


def test_matching_is_optimal_not_greedy():
    # Greedy nearest-first would give new row 0 the id of previous centroid A (distance 0.5)
    # and leave row 1 with B at 3.0; the optimal assignment (0->B, 1->A) costs 1.0 + 1.0.
    previous = PreviousFit(run_number=1, features=["x"], segment_ids=np.array([1, 2]),
                           centroids=np.array([[0.0], [2.0]]), max_segment_id=2)
    ids = match_segment_ids(["x"], np.array([[1.0], [-1.0]]), np.zeros(1), np.ones(1),
                            previous, 5.0)
    assert ids.ids.tolist() == [2, 1]


def test_a_changed_feature_list_gives_every_segment_a_new_id():
    previous = PreviousFit(run_number=1, features=["x"], segment_ids=np.array([1, 2]),
                           centroids=np.array([[0.0], [2.0]]), max_segment_id=2)
    ids = match_segment_ids(["x", "y"], np.zeros((2, 2)), np.zeros(2), np.ones(2), previous, 5.0)
    assert ids.ids.tolist() == [3, 4] and ids.retired == [1, 2]


def test_previous_centroids_are_compared_in_the_new_scaling():
    history = run(customers(CENTERS[:3]))
    previous = previous_fit(history)
    scales = [f["scaler_scale"] for f in history[0]["features"]]
    # Back in prepared units, the stored centroids are the blob centres.
    np.testing.assert_allclose(np.sort(previous.centroids[:, 0]), [0, 0, 10], atol=0.3)
    assert previous.max_segment_id == 3 and min(scales) > 0 and previous.features == ["x", "y"]


def test_ids_are_matched_to_the_latest_fit_skipping_failed_runs():
    frame = customers(CENTERS[:3])
    history = run(frame)
    failed = failed_run("no usable feature", context(history))
    history = as_table([*history, failed]).to_pylist()
    assert latest_fit(history)["run_number"] == 1 and next_run_number(history) == 3
    history = run(frame, history)
    assert history[-1]["previous_run_number"] == 1
    assert set(latest_segments(history).status) == {"matched"}


def test_retraining_on_changed_data_keeps_every_id_on_its_segment():
    first = run(customers(CENTERS[:3], seed=1))
    # ~5% of customers replaced and everything shifted a little: same segments, same ids.
    changed = pd.concat([customers(CENTERS[:3], seed=1).iloc[12:],
                         customers(CENTERS[:3], n_per=4, seed=2, prefix="n")])
    history = run(changed, first)
    before, after = centroids_by_id(history, 1), centroids_by_id(history, 2)
    assert sorted(after.index) == [1, 2, 3]
    np.testing.assert_allclose(after.loc[before.index], before, atol=0.15)
    assert set(latest_segments(history).status) == {"matched"}


def test_a_new_segment_gets_a_new_id_and_a_vanished_one_is_retired():
    history = run(customers(CENTERS[:3]))  # blobs 0, 1, 2 -> ids 1, 2, 3
    # Blob 2 disappears, blob 3 appears: ids of blobs 0 and 1 stay, blob 3 gets id 4.
    history = run(customers(CENTERS[[0, 1, 3]]), history)
    segments = latest_segments(history)
    assert sorted(segments.loc[segments.status == "new", "segment_id"]) == [4]
    assert sorted(segments.loc[segments.status == "retired", "segment_id"]) == [
        int(centroids_by_id(history, 1)["y"].idxmax())]
    # Blob 2 comes back: it is a new segment again (5), its old id is never reused.
    history = run(customers(CENTERS[:3]), history)
    new_ids = latest_segments(history).query("status == 'new'").segment_id
    assert sorted(new_ids) == [5]


def test_a_rerun_on_the_same_data_reproduces_ids_and_centroids():
    frame = customers(CENTERS[:3])
    history = run(frame, run(frame))
    np.testing.assert_allclose(centroids_by_id(history, 2), centroids_by_id(history, 1),
                               atol=1e-12)
    assert latest_segments(history).centroid_drift.max() < 1e-9
    assert history[0]["feature_fingerprint"] == history[1]["feature_fingerprint"]


def test_rules_replicate_the_segments_and_read_in_original_units():
    frame = customers(CENTERS, n_per=150)
    frame["spend"] = np.expm1(frame["x"] / 4 + 3)  # a log1p feature in its own units
    prepared = np.column_stack([np.log1p(frame["spend"]), frame["y"]])
    result = fit_segments(pd.DataFrame({"customer_id": frame.customer_id,
                                        "spend": prepared[:, 0], "y": prepared[:, 1]}),
                          config(features=("spend", "y"), n_segments=4))
    labels = result.labels
    explanation = explain_segments(prepared, (prepared - result.center) / result.scale, labels,
                                   ["spend", "y"], {"spend": "log1p"}, 3, 0)
    assert explanation.accuracy > 0.97 and explanation.macro_f1 > 0.97
    rules = explanation.rules
    assert set(rules.segment_id) == {1, 2, 3, 4}
    assert rules.groupby("segment_id").recall.sum().round(9).le(1).all()
    # Each rule, evaluated on the customers in the feature's own units, selects exactly the
    # customers the tree puts in that leaf.
    for record in rules.to_dict("records"):
        selected = frame.eval(record["rule"].replace(" and ", " & "))
        assert selected.sum() == record["customers"]


def test_rule_text_inverts_log1p_and_joins_bounds():
    bounds = {0: (np.log1p(99.0), np.inf), 1: (-np.inf, 40.5)}
    text = rule_text(bounds, ["monetary", "recency_days"], {"monetary": "log1p"})
    assert text == "monetary > 99 and recency_days <= 40.5"
    assert rule_text({}, ["x"], {}) == "all customers"


def test_leaf_conditions_cover_every_leaf():
    from sklearn.tree import DecisionTreeClassifier
    x = np.arange(20, dtype=float).reshape(-1, 1)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(x, (x[:, 0] // 5).astype(int))
    leaves = leaf_conditions(tree)
    assert len(leaves) == tree.get_n_leaves()


def test_variance_explained_is_between_segment_share():
    scaled = np.array([[0.0, 1.0], [0.0, -1.0], [2.0, 1.0], [2.0, -1.0]])
    np.testing.assert_allclose(variance_explained(scaled, np.array([1, 1, 2, 2])), [1.0, 0.0])


def test_a_run_holds_what_scoring_and_the_marts_need():
    (fit,) = run(customers(CENTERS[:3]), k_min=2, k_max=4)
    assert fit["run_number"] == 1 and fit["run_id"] == "test-run" and fit["error"] is None
    assert fit["chosen_k"] == 3 and fit["k_selection"] == "fixed" and fit["n_segments"] == 3
    assert len(fit["centroids"]) == 3 * 2
    assert {(c["segment_id"], c["feature"]) for c in fit["centroids"]} == {
        (s, f) for s in (1, 2, 3) for f in ("x", "y")}
    assert sum(s["fit_customers"] for s in fit["segments"]) == 240 == fit["fit_rows"]
    assert fit["inputs"] == [{"source": "customers", "raw_rows": 10, "accepted_rows": 9}]
    assert [(f["feature"], f["feature_order"], f["is_used"]) for f in fit["features"]] == [
        ("x", 1, True), ("y", 2, True)]
    assert [(m["k"], m["is_chosen"]) for m in fit["k_metrics"]] == [(3, True)]
    assert fit["rules"] and all(r["segment_id"] in (1, 2, 3) for r in fit["rules"])


def test_a_run_that_can_not_fit_keeps_the_reason_and_the_inputs():
    (failed,) = run(customers(CENTERS[:3]), features=[])
    assert "segmentation_features is empty" in failed["error"]
    assert failed["inputs"] and failed["centroids"] == [] and failed["chosen_k"] is None
    assert latest_fit([failed]) is None and previous_fit([failed]) is None


def test_input_rows_and_fingerprint():
    quality = pd.DataFrame({"source": ["customers", "customers", "transactions"],
                            "reason": [None, "bad_age", None], "rows": [8, 2, 5]})
    assert input_rows(quality) == {"customers": (10, 8), "transactions": (5, 5)}
    frame = customers(CENTERS[:2])
    same = feature_fingerprint(frame, ["x", "y"])
    assert same == feature_fingerprint(frame.copy(), ["x", "y"])
    frame.loc[3, "x"] += 1e-9
    assert feature_fingerprint(frame, ["x", "y"]) != same


@pytest.mark.parametrize(
    "history, expected", [([], 1), ([{"run_number": 1}, {"run_number": 3}], 4)])
def test_run_numbers_count_up(history, expected):
    assert next_run_number(history) == expected


def test_a_misspelt_feature_fails_the_run_and_lists_the_features():
    (failed,) = run(customers(CENTERS[:3]), features=["x", "spending_scor"])
    assert failed["error"] == (
        "var segmentation_features names 'spending_scor', which is not among the features: x, y")


def test_a_history_of_an_earlier_layout_stops_with_the_fix():
    check_history_columns(RUN_SCHEMA.names)
    with pytest.raises(ValueError, match="--full-refresh"):
        check_history_columns(["run_number", "run_id", "fitted_at", "section", "k", "metric"])


def bounds_row(feature: str, transform: str, is_default: bool, source: str) -> dict:
    """An int_feature_bounds row: the feature used as it is (no bounds, nothing imputed)."""
    return {"feature": feature, "transform": transform, "impute_strategy": "median",
            "impute_value": None, "lower_bound": None, "upper_bound": None,
            "is_default_feature": is_default, "source_model": source}


def default_run(frame: pd.DataFrame, settings: dict, prepared_as: dict,
                defaults: DefaultFeatures | None) -> Run:
    """The first run of a build without var segmentation_features on `frame` (raw and
    prepared alike)."""
    return segmentation_run(frame, lambda features: frame, settings, prepared_as, {}, [],
                            context([]), defaults)


def test_a_default_fit_without_usable_purchase_features_adds_every_customer_attribute():
    """var segmentation_features null: the default set, and when none of its purchase
    features is usable (no transactions), every usable numeric customer attribute too."""
    frame = customers(CENTERS[:3]).rename(columns={"x": "income", "y": "score"})
    frame["frequency"] = 0.0  # no transactions: constant
    frame["recency_days"] = np.nan  # all null
    frame["age"] = np.nan  # an attribute the input lacks: not added
    frame["tenure_days"] = 7.0  # a default attribute, constant here
    bounds = [bounds_row(*row) for row in [
        ("recency_days", "none", True, PURCHASE_SOURCE),
        ("frequency", "log1p", True, PURCHASE_SOURCE),
        ("tenure_days", "none", True, "int_customer_attributes_banded"),
        ("age", "none", False, "int_customer_attributes_banded"),
        ("income", "none", False, "int_customer_attributes_banded"),
        ("score", "none", False, "stg_customers")]]
    settings, prepared_as, defaults = resolve_features({"features": None, "n_init": 4}, bounds)
    assert settings["features"] == ["recency_days", "frequency", "tenure_days"]
    assert defaults == DefaultFeatures(purchase=("recency_days", "frequency"),
                                       attributes=("tenure_days", "age", "income", "score"))
    fit = default_run(frame, settings, prepared_as, defaults)
    assert fit["error"] is None and fit["chosen_k"] == 3
    assert [(f["feature"], f["is_used"], f["excluded_reason"]) for f in fit["features"]] == [
        ("recency_days", False, "all_null"), ("frequency", False, "constant"),
        ("tenure_days", False, "constant"), ("income", True, None), ("score", True, None)]
    assert fit["warnings"].endswith(
        "no purchase feature of the default set is usable (no transactions, or none that "
        "vary): the fit uses every usable numeric customer attribute (income, score) beside "
        "it; set var segmentation_features to choose")
    # with one purchase feature that varies, the default set is left as it is
    frame["frequency"] = np.arange(len(frame)) % 4
    fit = default_run(frame, settings, prepared_as, defaults)
    assert [f["feature"] for f in fit["features"]] == ["recency_days", "frequency", "tenure_days"]
    assert "customer attribute" not in (fit["warnings"] or "")
