"""Categorical clustering features end to end: builds with text attributes in
segmentation_features, checked against scikit-learn and pandas on the same customers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import pairwise_distances_argmin

from conftest import connect, needs_shared_data, run_dbt
from custseg.clustering import (
    OTHER_LEVEL,
    SegmentationConfig,
    apply_scaler,
    fit_segments,
    load_features,
    map_levels,
)
from custseg.report.load import load_marts
from custseg.report.page import build_report


def assert_sql_equals_scikit_learn(workdir: Path) -> pd.DataFrame:
    """The build's SQL scoring gives every customer scikit-learn's segment and distance (the
    fit run again in Python on the same prepared table); returns customer_id, segment_id and
    the prepared categorical values."""
    with connect(workdir) as con:
        (run,) = con.sql("select * from segment_model").arrow().read_all().to_pylist()
        features = tuple(f["feature"] for f in run["features"] if f["is_used"])
        config = SegmentationConfig(
            features=features, scaler=run["scaler"], k_min=run["k_min"], k_max=run["k_max"],
            n_segments=run["n_segments"], random_state=run["random_state"],
            n_init=run["n_init"], silhouette_sample_size=run["silhouette_sample_size"],
            min_level_share=run["min_level_share"])
        prepared = load_features(con.table("int_customer_features_prepared"), features)
        sql = con.sql("select customer_id, segment_id, distance_to_centroid "
                      "from int_customer_segments order by customer_id").df()
    refit = fit_segments(prepared, config)
    assert refit.n_fit_rows == len(prepared)  # the whole table: the matrix scores everyone
    assert refit.chosen_k == run["chosen_k"]
    stored = {(c["segment_id"], c["feature"]): c["centroid_scaled"] for c in run["centroids"]}
    stored.update({(c["segment_id"], f"{c['feature']}={c['level']}"): c["centroid_scaled"]
                   for c in run["level_centroids"]})
    ids = sorted({segment_id for segment_id, _ in stored})
    centroids = np.array([[stored[(i, column)] for column in refit.columns] for i in ids])
    np.testing.assert_array_equal(refit.centroids, centroids)
    assert [(level["feature"], level["level"]) for level in run["levels"]] == [
        (level.feature, level.level) for level in refit.levels]
    assert (sql["customer_id"].to_numpy() == prepared["customer_id"].to_numpy()).all()
    np.testing.assert_array_equal(sql["segment_id"].to_numpy(), refit.labels)
    scaled = apply_scaler(refit.matrix, refit.center, refit.scale)
    nearest = pairwise_distances_argmin(scaled, refit.centroids) + 1
    np.testing.assert_array_equal(sql["segment_id"].to_numpy(), nearest)
    distances = np.linalg.norm(scaled - refit.centroids[nearest - 1], axis=1)
    np.testing.assert_allclose(sql["distance_to_centroid"].to_numpy(), distances, rtol=1e-9)
    categorical = sorted({level.feature for level in refit.levels})
    return sql[["customer_id", "segment_id"]].join(prepared[categorical])


def assert_level_shares_match_pandas(workdir: Path, assigned: pd.DataFrame) -> pd.DataFrame:
    """segment_level_shares equals the level shares pandas counts on the same assignments."""
    with connect(workdir) as con:
        shares = con.sql("select * from segment_level_shares").df()
        levels = con.sql("select feature, level from int_segment_fit_levels").df()
    assert not shares.empty
    for feature, named in levels.groupby("feature")["level"]:
        level = map_levels(assigned[feature], list(named))
        counts = pd.crosstab(assigned["segment_id"], level)
        expected = counts.div(counts.sum(axis=1), axis=0).stack()
        got = shares[shares["feature"] == feature].set_index(["segment_id", "level"])
        for (segment_id, name), share in expected.items():
            assert got.at[(segment_id, name), "share"] == pytest.approx(share, abs=1e-12)
            assert got.at[(segment_id, name), "customers"] == counts.at[segment_id, name]
        assert set(got.index) == {(s, n) for s in counts.index for n in named}
        per_segment = got.groupby(level="segment_id")["share"].sum()
        np.testing.assert_allclose(per_segment.to_numpy(), 1.0)
        overall = pd.Series(level).value_counts(normalize=True)
        for name in named:
            assert got.xs(name, level="level")["overall_share"].iloc[0] == pytest.approx(
                overall.get(name, 0.0))
    return shares


@pytest.fixture(scope="module")
def categorical_build(variant_build) -> Path:
    # the catalogue's default set plus membership_tier and gender
    return variant_build("categorical")


def test_sql_scoring_equals_scikit_learn_with_categorical_features(categorical_build):
    assigned = assert_sql_equals_scikit_learn(categorical_build)
    assert {"membership_tier", "gender"} <= set(assigned.columns)


def test_levels_and_their_weighting_are_stored_with_the_fit(categorical_build):
    with connect(categorical_build) as con:
        levels = con.sql("select * from int_segment_fit_levels order by level_order").df()
        prepared = con.sql("select membership_tier, gender "
                           "from int_customer_features_prepared").df()
    assert set(levels["feature"]) == {"membership_tier", "gender"}
    for feature, block in levels.groupby("feature"):
        # the block's centered indicators have the total variance of one standardised feature
        assert block["scaler_scale"].nunique() == 1
        scale = block["scaler_scale"].iloc[0]
        assert scale == pytest.approx(np.sqrt(1 - np.sum(block["fit_share"] ** 2)))
        assert block["fit_share"].sum() == pytest.approx(1)
        assert (block["scaler_center"] == block["fit_share"]).all()
        observed = prepared[feature].value_counts(normalize=True)
        for row in block.itertuples():
            if row.level != OTHER_LEVEL:
                assert row.fit_share == pytest.approx(observed[row.level])
        assert list(block["level"])[-1:] != [] and (
            OTHER_LEVEL not in set(block["level"]) or block["level"].iloc[-1] == OTHER_LEVEL)


def test_level_shares_mart_matches_pandas(categorical_build):
    assigned = assert_sql_equals_scikit_learn(categorical_build)
    assert_level_shares_match_pandas(categorical_build, assigned)


def test_importance_lists_the_categorical_features(categorical_build):
    with connect(categorical_build) as con:
        importance = con.sql("select * from segment_feature_importance").df()
    assert {"membership_tier", "gender"} <= set(importance["feature"])
    assert importance["variance_explained"].between(0, 1).all()
    assert importance["tree_importance"].sum() == pytest.approx(1)


def test_report_shows_the_categorical_centroids_as_level_shares(categorical_build):
    marts = load_marts(categorical_build / "custseg.duckdb")
    document = build_report(marts, datetime(2026, 1, 1, tzinfo=UTC), lambda step: None)
    start = document.index('<section id="profiles">')
    profiles = document[start:document.index("</section>", start)]
    assert '<div id="level-shares"' in profiles
    shares = marts.table("segment_level_shares")
    gold = shares[(shares["feature"] == "membership_tier") & (shares["level"] == "gold")]
    for share in gold["share"]:
        assert f"{100 * share:.0f}%" in profiles
    assert "Categorical features" in profiles and "membership_tier" in profiles


TRAIT = re.compile(r"(\S+) ([a-z ]+) \((\d+)% vs (\d+)% overall\)")


def test_a_fit_on_categorical_features_only_names_segments_by_level_shares(variant_build):
    built = variant_build("categorical_only")  # membership_tier and gender, K = 4
    assigned = assert_sql_equals_scikit_learn(built)
    shares = assert_level_shares_match_pandas(built, assigned).set_index(
        ["segment_id", "feature", "level"])
    with connect(built) as con:
        segments = con.sql("select segment_id, segment_name, traits from dim_segments").df()
        rules = con.sql("select rule from segment_rules").df()
    for segment in segments.itertuples():
        traits = [TRAIT.fullmatch(trait).groups() for trait in segment.traits.split("; ")]
        assert traits, segment.traits  # e.g. 'gold membership tier (78% vs 30% overall)'
        for level, feature, share, overall in traits:
            row = shares.loc[(segment.segment_id, feature.replace(" ", "_"), level)]
            assert abs(int(share) - 100 * row["share"]) <= 0.5 + 1e-9
            assert abs(int(overall) - 100 * row["overall_share"]) <= 0.5 + 1e-9
            assert row["share"] > row["overall_share"]  # the trait is over-represented
        assert segment.segment_name.lower().startswith(traits[0][0])
    assert rules["rule"].str.contains(r"(?:membership_tier|gender) !?= ").all()


@needs_shared_data
def test_marketing_campaign_with_education_and_marital_status(marketing_campaign_build):
    built = marketing_campaign_build  # Education and Marital_Status among its features
    assigned = assert_sql_equals_scikit_learn(built)
    shares = assert_level_shares_match_pandas(built, assigned)
    marital = set(shares.loc[shares["feature"] == "marital_status", "level"])
    # Absurd, YOLO and Alone (2-3 customers each of 2,240) are grouped into 'other'
    assert {"married", "together", "single", OTHER_LEVEL} <= marital
    assert not {"absurd", "yolo", "alone"} & marital
    education = set(shares.loc[shares["feature"] == "education", "level"])
    assert {"graduation", "phd", "master"} <= education
    with connect(built) as con:
        # cleaned as staging cleans the contract's text attributes ('PhD' -> 'phd')
        assert set(con.sql("select distinct education from stg_customers").fetchnumpy()[
            "education"]) == {"graduation", "phd", "master", "basic", "2n cycle"}
        staged = {name for (name,) in con.sql(
            "select column_name from information_schema.columns "
            "where table_name = 'int_customer_features'").fetchall()}
        importance = set(con.sql("select feature from segment_feature_importance").fetchnumpy()[
            "feature"])
    # the note (2,240 distinct values) is not staged: no feature, no column downstream
    assert {"education", "marital_status"} <= staged and "customer_note" not in staged
    assert {"education", "marital_status"} <= importance
    # the report shows them as it shows the contract's categorical attributes
    marts = load_marts(built / "custseg.duckdb")
    document = build_report(marts, datetime(2026, 1, 1, tzinfo=UTC), lambda step: None)
    start = document.index('<section id="profiles">')
    profiles = document[start:document.index("</section>", start)]
    assert "Categorical features" in profiles and "marital_status" in profiles
    phd = shares[(shares["feature"] == "education") & (shares["level"] == "phd")]
    for share in phd["share"]:
        assert f"{100 * share:.0f}%" in profiles


def test_text_columns_with_too_many_values_asked_for_as_features_stop_the_build(tmp_path):
    """An id-like note and a store with more distinct values than max_categorical_levels are
    no categorical features: asked for, each stops the build with one line naming the rule
    (compiling base_customers, the model that checks, is enough)."""
    raw_dir = tmp_path / "input"
    raw_dir.mkdir()
    pd.DataFrame({
        "customer_id": [f"C{i:03d}" for i in range(200)],
        "annual_income": [20_000 + 100 * i for i in range(200)],
        "Notes": [f"called on day {i}" if i % 10 else "" for i in range(200)],
        "Store": [f"store {i % 60}" for i in range(200)],
    }).to_csv(raw_dir / "customers.csv", index=False)
    result = run_dbt(["run", "--select", "base_customers"], tmp_path, {
        "raw_data_dir": str(raw_dir),
        "segmentation_features": ["annual_income", "Notes", "store"]}, check=False)
    assert result.returncode != 0
    rule = ("a categorical feature has at most max_categorical_levels (50) distinct values and "
            "no more than half as many distinct values as non-empty ones (an id or free text "
            "is not one).")
    lines = result.stdout.splitlines()
    prefix = "var segmentation_features names {}, a text column of the customers input that is "
    for column, counts in [("notes", "180 distinct values in 180 non-empty ones"),
                           ("store", "60 distinct values in 200 non-empty ones")]:
        line = prefix.format(column) + f"not a categorical feature: {counts}, but {rule}"
        assert any(text.strip().endswith(line) for text in lines), (line, result.stdout[-3000:])
