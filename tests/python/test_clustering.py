"""Unit tests of the K-means fitting logic (custseg.clustering), on small synthetic data."""

import numpy as np
import pandas as pd
import pytest

from custseg import clustering
from custseg.clustering import (
    MISSING_LEVEL,
    OTHER_LEVEL,
    SegmentationConfig,
    SegmentationError,
    apply_scaler,
    block_scale,
    choose_k,
    elbow_k,
    encode_levels,
    fit_scaler,
    fit_segments,
    is_categorical,
    learn_levels,
    map_levels,
    order_segments,
    sample_indices,
    usable_features,
)


def blobs(n_per: int = 100, seed: int = 0) -> pd.DataFrame:
    """Three well-separated blobs in two features, plus an all-null and a constant column."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 20.0]])
    points = np.vstack([rng.normal(c, 1.0, size=(n_per, 2)) for c in centers])
    return pd.DataFrame({
        "customer_id": [f"c{i:04d}" for i in range(len(points))],
        "x": points[:, 0],
        "y": points[:, 1],
        "empty": np.nan,
        "flat": 7.0,
    })


def config(**overrides) -> SegmentationConfig:
    settings = {"features": ("x", "y"), "k_min": 2, "k_max": 6, "n_init": 4}
    return SegmentationConfig(**{**settings, **overrides})


def test_config_from_mapping_drops_nulls_and_rejects_typos():
    cfg = SegmentationConfig.from_mapping({"features": ["x"], "n_segments": None, "k_max": "5"})
    assert cfg.features == ("x",) and cfg.n_segments is None and cfg.k_max == 5
    with pytest.raises(ValueError, match="unknown segmentation settings"):
        SegmentationConfig.from_mapping({"features": ["x"], "kmax": 5})
    with pytest.raises(ValueError, match="scaler"):
        SegmentationConfig(features=("x",), scaler="minmax")
    with pytest.raises(ValueError, match="k_min"):
        SegmentationConfig(features=("x",), k_min=5, k_max=3)


@pytest.mark.parametrize("value, message", [
    (1, "n_segments must be at least 2"), (0, "n_segments must be at least 2"),
    (-3, "n_segments must be at least 2"), (2.5, "n_segments must be a whole number"),
    ("four", "n_segments must be a number"), (True, "n_segments must be a whole number"),
    ("inf", "n_segments must be a number"),
])
def test_an_unusable_n_segments_is_one_clear_error(value, message):
    with pytest.raises(SegmentationError, match=message):
        SegmentationConfig.from_mapping({"features": ["x"], "n_segments": value})
    assert SegmentationConfig.from_mapping({"features": ["x"], "n_segments": 2.0}).n_segments == 2


def test_usable_features_reports_why_a_feature_is_left_out():
    used, excluded = usable_features(blobs(), ("x", "empty", "flat", "missing", "y"))
    assert used == ["x", "y"]
    assert excluded == {"empty": "all_null", "flat": "constant",
                        "missing": "not_in_feature_table"}


def test_standard_scaler_gives_zero_mean_unit_variance():
    matrix = blobs()[["x", "y"]].to_numpy()
    center, scale = fit_scaler(matrix, "standard")
    scaled = apply_scaler(matrix, center, scale)
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1, atol=1e-12)


def test_robust_scaler_uses_median_and_iqr_and_never_divides_by_zero():
    matrix = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 5.0], [100.0, 5.0]])
    center, scale = fit_scaler(matrix, "robust")
    assert center.tolist() == [3.0, 5.0]
    assert scale.tolist() == [2.0, 1.0]  # IQR 4 - 2; a constant column scales by 1


def test_silhouette_choice_recovers_three_blobs():
    result = fit_segments(blobs(), config())
    assert result.chosen_k == 3
    assert result.features == ["x", "y"]
    assert sorted(np.bincount(result.labels)[1:]) == [100, 100, 100]
    # each true blob lands in exactly one segment
    truth = np.repeat([0, 1, 2], 100)
    assert len({(t, s) for t, s in zip(truth, result.labels, strict=True)}) == 3


def test_elbow_picks_the_bend():
    metrics = pd.DataFrame({"k": [2, 3, 4, 5, 6], "inertia": [1000.0, 200.0, 150.0, 120.0, 100.0]})
    assert elbow_k(metrics) == 3
    assert choose_k(metrics.assign(silhouette=[0.1, 0.2, 0.6, 0.6, 0.3]), config()) == 4
    assert choose_k(metrics, config(k_selection="elbow")) == 3
    assert choose_k(metrics, config(n_segments=5)) == 5


def test_fixed_k_evaluates_only_that_k():
    result = fit_segments(blobs(), config(n_segments=4))
    assert result.chosen_k == 4 and result.k_metrics["k"].tolist() == [4]


def test_segments_are_numbered_by_descending_size():
    centroids = np.array([[0.0], [5.0], [9.0]])
    labels = np.array([2, 2, 2, 0, 1, 1])
    ordered, relabelled = order_segments(centroids, labels)
    assert ordered[:, 0].tolist() == [9.0, 5.0, 0.0]
    assert relabelled.tolist() == [1, 1, 1, 3, 2, 2]


def test_fit_is_deterministic_and_independent_of_extra_columns():
    first = fit_segments(blobs(), config())
    second = fit_segments(blobs().drop(columns=["empty", "flat"]), config())
    assert np.array_equal(first.labels, second.labels)
    assert np.array_equal(first.centroids, second.centroids)
    np.testing.assert_array_equal(first.matrix, second.matrix)


def test_sample_is_reproducible_and_bounded():
    assert sample_indices(10, 20, 1).tolist() == list(range(10))
    first, second = sample_indices(1000, 100, 7), sample_indices(1000, 100, 7)
    assert np.array_equal(first, second) and len(np.unique(first)) == 100
    result = fit_segments(blobs(), config(fit_sample_size=90))
    assert result.n_fit_rows == 90 and result.n_rows == 300


def test_k_is_swept_on_a_subsample_and_the_chosen_k_fitted_on_the_whole_sample(monkeypatch):
    whole = fit_segments(blobs(), config())
    monkeypatch.setattr(clustering, "SWEEP_SAMPLE_SIZE", 120)
    swept = fit_segments(blobs(), config())
    assert swept.chosen_k == whole.chosen_k == 3
    # the chosen K is fitted on all 300 rows, as without the subsample: the same segments
    assert swept.n_fit_rows == 300 and np.array_equal(swept.labels, whole.labels)
    assert np.array_equal(swept.centroids, whole.centroids)
    # every K is scored on the same 120 rows, the chosen one too: inertia falls with K, and
    # the chosen K's is about 120/300 of its inertia over all rows
    inertia = swept.k_metrics.set_index("k")["inertia"]
    assert inertia.is_monotonic_decreasing
    assert 0.3 < inertia[3] / whole.k_metrics.set_index("k")["inertia"][3] < 0.5
    # a fixed K is fitted on the whole sample at once
    fixed = fit_segments(blobs(), config(n_segments=3))
    assert fixed.n_fit_rows == 300 and fixed.k_metrics["k"].tolist() == [3]


def test_nothing_usable_is_a_clear_error():
    with pytest.raises(ValueError, match="none of the segmentation features is usable"):
        fit_segments(blobs(), config(features=("empty", "flat")))


def tiers(n: int = 200) -> pd.Series:
    """60% gold, 30% silver, 9.5% bronze, one 'platinum' (0.5%), no value once."""
    values = ["gold"] * 120 + ["silver"] * 60 + ["bronze"] * 18 + ["platinum"] + [None]
    return pd.Series(values[:n], dtype=object)


def test_levels_are_learned_most_common_first_with_rare_ones_grouped_and_missing_kept():
    assert learn_levels(tiers(), 0.01) == [
        ("gold", 0.6), ("silver", 0.3), ("bronze", 0.09), (MISSING_LEVEL, 0.005),
        (OTHER_LEVEL, 0.005)]
    # with no threshold every value is a level, 'missing' too; nothing is 'other'
    assert [name for name, _ in learn_levels(tiers(), 0.0)] == [
        "gold", "silver", "bronze", MISSING_LEVEL, "platinum"]
    # a real value 'other' joins the group of rare ones
    grouped = learn_levels(pd.Series(["a", "a", "other", "b"]), 0.3)
    assert grouped == [("a", 0.5), (OTHER_LEVEL, 0.5)]


def test_values_map_to_their_level_or_other():
    mapped = map_levels(pd.Series(["gold", "platinum", None, "new"]),
                        ["gold", MISSING_LEVEL, OTHER_LEVEL])
    assert mapped.tolist() == ["gold", OTHER_LEVEL, MISSING_LEVEL, OTHER_LEVEL]


def test_booleans_and_text_are_categorical_numbers_are_not():
    assert is_categorical(pd.Series([True, False]))
    assert is_categorical(pd.Series(["a", None]))
    assert not is_categorical(pd.Series([1.0, np.nan]))
    assert not is_categorical(pd.Series([None, None], dtype=object))  # all null: all_null
    assert [name for name, _ in learn_levels(pd.Series([True, False, True]), 0.01)] == [
        "true", "false"]


def test_a_categorical_block_weighs_one_standardised_feature():
    indicators, levels = encode_levels("tier", tiers(), 0.01)
    assert [level.column for level in levels] == [
        "tier=gold", "tier=silver", "tier=bronze", "tier=missing", "tier=other"]
    assert indicators.sum(axis=1).tolist() == [1.0] * 200  # one level per customer
    center = np.array([level.share for level in levels])
    scale = np.array([level.scale for level in levels])
    scaled = apply_scaler(indicators, center, scale)
    # total variance of the block = variance of one standardised numeric column
    assert scaled.var(axis=0).sum() == pytest.approx(1.0)
    assert block_scale(center) == pytest.approx(np.sqrt(1 - np.sum(center ** 2)))
    # however many levels: ten equally common levels weigh the same as two
    for n_levels in (2, 10):
        values = pd.Series([f"l{i % n_levels}" for i in range(1000)])
        block, learned = encode_levels("f", values, 0.0)
        scaled = apply_scaler(block, np.array([lv.share for lv in learned]),
                              np.array([lv.scale for lv in learned]))
        assert scaled.var(axis=0).sum() == pytest.approx(1.0)
    assert block_scale(np.array([1.0])) == 1.0  # one level: never divides by zero


def test_a_constant_categorical_feature_is_left_out():
    frame = blobs().assign(tier="gold", kind=lambda f: np.where(f["x"] > 5, "a", "b"))
    used, excluded = usable_features(frame, ("x", "tier", "kind"))
    assert used == ["x", "kind"] and excluded == {"tier": "constant"}


def test_fit_clusters_on_weighted_indicators_in_the_order_asked():
    frame = blobs()
    frame["side"] = np.where(frame["y"] > 10, "top", "bottom")
    result = fit_segments(frame, config(features=("side", "x"), n_segments=3))
    assert result.columns == ["side=bottom", "side=top", "x"]
    assert result.features == ["side", "x"]
    assert result.feature_of_column() == ["side", "side", "x"]
    assert [level.level for level in result.levels] == ["bottom", "top"]
    scaled = apply_scaler(result.matrix, result.center, result.scale)
    assert scaled[:, :2].var(axis=0).sum() == pytest.approx(1.0)
    assert scaled[:, 2].var() == pytest.approx(1.0)
    # the numeric part is scaled exactly as in a numeric-only fit
    numeric = fit_segments(frame, config(features=("x",), n_segments=3))
    np.testing.assert_array_equal(result.center[2:], numeric.center)
    np.testing.assert_array_equal(result.scale[2:], numeric.scale)


def test_a_numeric_only_fit_is_unchanged_by_the_categorical_support():
    result = fit_segments(blobs(), config())
    assert result.columns == result.features == ["x", "y"] and result.levels == []
    # the same array the fit always scaled: all rows of the frame's columns, C-ordered
    rows = np.arange(len(blobs()))
    center, scale = fit_scaler(blobs()[["x", "y"]].to_numpy(float)[rows], "standard")
    np.testing.assert_array_equal(result.center, center)
    np.testing.assert_array_equal(result.scale, scale)


def test_min_level_share_must_be_a_share():
    assert SegmentationConfig.from_mapping(
        {"features": ["x"], "min_level_share": "0.05"}).min_level_share == 0.05
    with pytest.raises(SegmentationError, match="min_level_share"):
        SegmentationConfig.from_mapping({"features": ["x"], "min_level_share": 1.5})


@pytest.mark.parametrize(("settings", "message"), [
    ({"n_init": 0}, "var n_init must be at least 1, got 0"),
    ({"fit_sample_size": 2}, "var fit_sample_size must be at least 3, got 2"),
    ({"silhouette_sample_size": 1}, "var silhouette_sample_size must be at least 2, got 1"),
    ({"random_state": -1}, "var random_state must be at least 0, got -1"),
    ({"random_state": 2**32}, "var random_state must be at most 4294967295"),
    ({"match_max_distance": -0.5}, "var segment_match_max_distance must be at least 0"),
])
def test_settings_scikit_learn_would_refuse_are_one_clear_error(settings, message):
    """Each of these reached scikit-learn (a traceback) or sampled no rows; now the fit and
    the settings check of on-run-start stop with the setting's name."""
    with pytest.raises(SegmentationError, match=message.replace("(", r"\(")):
        SegmentationConfig.from_mapping({"features": ["x"], **settings})
