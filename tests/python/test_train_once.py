"""Train once, score every build - end to end on one DuckDB file (a copy of the sample build,
whose run 1 is the fit):

- build 2: the same sample, refit auto: a score run, no drift, the drift tests pass;
- build 3: a changed population - half the customers' prices tripled, 30% new customers, one
  planted far-off customer - with refit never: scored with fit 1, drift measured;
- build 4: the same population, refit auto: fits again because of the drift;
- build 5: the same population three days later with refit_after_days 2: fits again because
  the fit is too old.

Builds 2-5 leave out the data tests, but for those of segment_drift (what the drift tests
say is the point) in builds 2 and 3.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from conftest import REPO, connect, read_raw, run_dbt, sample_tables
from custseg.generate import generate

pytestmark = pytest.mark.long_running  # four builds: collected first (conftest)

AS_OF = "2026-10-31"  # the sample's latest transaction: every build counts from it
PLANTED = "P0000001"
DRIFT_TESTS = ("drift_feature_psi_of_the_latest_run_within_threshold",
               "drift_segment_shares_of_the_latest_run_within_threshold",
               "drift_mean_distance_of_the_latest_run_within_threshold")
WITH_DRIFT_TESTS = ["--select", "resource_type:seed resource_type:model resource_type:snapshot "
                    "fqn:*drift_*_within_threshold", "--indirect-selection", "empty"]
WITHOUT_TESTS = ["--exclude-resource-type", "test"]


def changed_population(tmp: Path) -> tuple[dict[str, pd.DataFrame], set[str], set[str]]:
    """The sample with every second customer's prices tripled, 900 new customers (30%) and
    one planted customer far from every segment; the customers whose raw rows changed, and
    the new ones."""
    tables = sample_tables()
    customers = sorted(set(tables["customers"]["customer_id"]) - {""})
    tripled = set(customers[::2])
    transactions = tables["transactions"].copy()
    price = pd.to_numeric(transactions["unit_price"], errors="coerce")
    rows = transactions["customer_id"].isin(tripled) & (price > 0)
    transactions.loc[rows, "unit_price"] = (price[rows] * 3).map("{:.2f}".format)
    changed = set(transactions.loc[rows, "customer_id"])
    tables["transactions"] = transactions

    generate(tmp / "new", n_customers=900, n_transactions=18000, seed=11, fmt="csv")
    new = {name: read_raw(tmp / "new" / f"{name}.csv")
           for name in ("customers", "transactions", "campaign_contacts")}
    for table in new.values():
        table["customer_id"] = table["customer_id"].str.replace("C", "N", n=1)
    new["transactions"]["transaction_id"] = new["transactions"]["transaction_id"].str.replace(
        "T", "V", n=1)
    planted = planted_customer(tables)
    for name in ("customers", "transactions"):
        new[name] = pd.concat([new[name], planted[name]], ignore_index=True)
    for name, table in new.items():
        tables[name] = pd.concat([tables[name], table], ignore_index=True)
    return tables, changed, set(new["customers"]["customer_id"])


def planted_customer(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A customer unlike any segment: a recent, long-standing, frequent big spender across
    eight categories who also returns 40% of the orders and buys at 60% discount."""
    customer = tables["customers"].iloc[[0]].copy()
    customer["customer_id"] = PLANTED
    customer["signup_date"] = "2024-01-05"
    customer["email"] = ""
    categories = sorted({c.strip().lower() for c in tables["transactions"]["product_category"]
                         if c.strip() and c.strip().lower() != "unknown"})[:8]
    days = pd.date_range(end="2026-10-29", periods=60, freq="6D")
    transactions = pd.DataFrame({
        "transaction_id": [f"PT{i:06d}" for i in range(60)],
        "customer_id": PLANTED,
        "transaction_ts": days.strftime("%Y-%m-%d 10:00:00"),
        "product_category": [categories[i % len(categories)] for i in range(60)],
        "quantity": "1", "unit_price": "400.00", "discount_amount": "240.00", "channel": "online",
        "status": ["returned" if i % 5 in (1, 3) else "completed" for i in range(60)],
    })
    return {"customers": customer, "transactions": transactions}


def write_inputs(directory: Path, tables: dict[str, pd.DataFrame]) -> Path:
    directory.mkdir(parents=True)
    for name, table in tables.items():
        table.to_csv(directory / f"{name}.csv", index=False)
    return directory


ASSIGNMENTS = ("select customer_id, segment_id, distance_to_centroid, is_outlier, outlier_score "
               "from dim_customer_segments order by customer_id")


def snapshot(workdir: Path, build: str) -> dict:
    """What a test reads of a build: runs, drift checks, assignments, names; the file is
    copied so later builds leave it as it was."""
    copy = workdir / f"{build}.duckdb"
    shutil.copy(workdir / "custseg.duckdb", copy)
    with connect(copy) as con:
        return {
            "db": copy,
            "runs": con.sql("select * from segment_runs order by run_number").df(),
            "drift": con.sql("select * from segment_drift order by run_number, check_name").df(),
            "assignments": con.sql(ASSIGNMENTS).df().set_index("customer_id"),
            "names": dict(con.sql("select segment_id, segment_name from dim_segments")
                          .fetchall()),
            "history": con.sql("select * from segment_model order by run_number")
            .arrow().read_all().to_pylist(),
            "features": con.sql("select * from int_customer_features").df(),
        }


@pytest.fixture(scope="module")
def builds(sample_build, tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("train_once")
    workdir = tmp / "work"
    workdir.mkdir()
    shutil.copy(sample_build / "custseg.duckdb", workdir / "custseg.duckdb")
    tables, changed, new = changed_population(tmp)
    population = write_inputs(tmp / "changed", tables)
    state = {"workdir": workdir, "changed": changed, "new": new,
             "sample": snapshot(workdir, "sample")}
    steps = (
        ("same", WITH_DRIFT_TESTS, {"as_of_date": AS_OF}),
        ("never", WITH_DRIFT_TESTS, {"as_of_date": AS_OF, "raw_data_dir": str(population),
                                     "refit": "never"}),
        ("drifted", WITHOUT_TESTS, {"as_of_date": AS_OF, "raw_data_dir": str(population)}),
        ("aged", WITHOUT_TESTS, {"as_of_date": "2026-11-03", "raw_data_dir": str(population),
                                 "refit_after_days": 2}),
    )
    for name, flags, variables in steps:
        result = run_dbt(["build", *flags], workdir, variables)
        state[name] = {**snapshot(workdir, name), "stdout": result.stdout}
    return state


def test_each_build_fits_or_scores_for_its_reason(builds):
    runs = builds["aged"]["runs"]
    print(runs[["run_number", "run_type", "reason", "fit_run_number", "fit_age_days",
                "drifted_checks"]].to_string())
    assert runs["run_type"].tolist() == ["fit", "score", "score", "fit", "fit"]
    assert runs["fit_run_number"].tolist() == [1, 1, 1, 4, 5]
    reasons = runs["reason"].tolist()
    assert reasons[0] == "no previous fit"
    assert reasons[1] == "fit 1 is current: 0 days old, no drift"
    assert reasons[2].startswith("refit: never; drift: ")
    assert reasons[3].startswith("drift: ") and reasons[3] == reasons[2].removeprefix(
        "refit: never; ")
    assert reasons[4] == "fit is 3 days old"
    assert runs["fit_age_days"].tolist() == [0, 0, 0, 0, 0]
    assert runs["is_latest"].tolist() == [False, False, False, False, True]
    # The console summary says the same.
    assert "Score: run 2 scored 3000 customers with fit 1" in builds["same"]["stdout"]
    assert "why: fit 1 is current: 0 days old, no drift" in builds["same"]["stdout"]


def test_refit_never_scores_the_new_population_with_the_old_fit(builds):
    sample, never = builds["sample"], builds["never"]
    # No new fit: the history's fit is still run 1, and the marts show it.
    assert [r["run_number"] for r in never["history"] if r["run_type"] == "fit"] == [1]
    assert never["runs"]["is_latest"].tolist() == [True, False, False]
    # Every customer is scored, the new ones included.
    scored = set(never["assignments"].index)
    assert builds["new"] - {""} <= scored | {PLANTED} and PLANTED in scored
    new_scored = scored & builds["new"]
    assert len(new_scored) > 800
    # Customers whose raw rows did not change keep their segment and distance exactly,
    # although int_feature_bounds learned other bounds from the new population.
    before = sample["assignments"]
    unchanged = before.index.difference(list(builds["changed"]))
    assert len(unchanged) > 1400
    after = never["assignments"].loc[unchanged]
    assert (after["segment_id"] == before.loc[unchanged, "segment_id"]).all()
    delta = (after["distance_to_centroid"] - before.loc[unchanged, "distance_to_centroid"]).abs()
    assert delta.max() < 1e-9
    with connect(never["db"]) as con:
        (moved_bound,) = con.sql("select max(upper_bound) filter (where feature = 'monetary') "
                                 "from int_feature_bounds").fetchall()[0]
        (fit_bound,) = con.sql("select upper_bound from int_segment_fit_features "
                               "where feature = 'monetary'").fetchall()[0]
    assert moved_bound > 1.2 * fit_bound  # the current data's bound moved; scoring ignored it


def reference_bins(history: list[dict], run_number: int) -> pd.DataFrame:
    (fit,) = [run for run in history if run["run_number"] == run_number]
    return pd.DataFrame(fit["reference_bins"])


def independent_psi(values: pd.Series, bins: pd.DataFrame) -> float:
    """The PSI of `values` against stored bins, recomputed here: pandas' right-closed cut on
    the stored edges, a bin of missing values, shares floored at 0.0001."""
    ranges = bins[bins["level"].isna()].sort_values("bin_number")
    edges = [-np.inf, *ranges["upper_edge"].iloc[:-1], np.inf]
    counts = pd.cut(values, edges, right=True).value_counts(sort=False).to_numpy()
    current = np.append(counts, values.isna().sum()) / len(values)
    reference = np.append(ranges["share"].to_numpy(), bins.loc[bins["level"] == "missing",
                                                                "share"].to_numpy())
    current, reference = np.maximum(current, 1e-4), np.maximum(reference, 1e-4)
    return float(np.sum((current - reference) * np.log(current / reference)))


def test_psi_and_share_drift_equal_an_independent_computation(builds):
    never = builds["never"]
    checks = never["drift"][never["drift"]["run_number"] == 3].set_index("check_name")
    bins = reference_bins(never["history"], 1)
    features = never["features"]
    psi = {}
    for feature, feature_bins in bins.groupby("feature"):
        psi[feature] = independent_psi(features[feature].astype(float), feature_bins)
        assert checks.loc[f"{feature} PSI", "value"] == pytest.approx(psi[feature], abs=1e-12)
    print({feature: round(value, 3) for feature, value in psi.items()})
    # Tripled prices move order values most (measured: avg_order_value 0.27, monetary 0.12,
    # discount_share 0.11 - a discount is a smaller share of a tripled price).
    assert psi["avg_order_value"] > 0.25 and checks.loc["avg_order_value PSI", "is_drifted"]
    assert psi["monetary"] > 0.1 and psi["discount_share"] > 0.1
    assert psi["recency_days"] < 0.01 and not checks.loc["recency_days PSI", "is_drifted"]
    # Shares: counted from the SQL assignments of this build, against the fit's stored shares.
    (fit,) = [run for run in never["history"] if run["run_number"] == 1]
    assigned = never["assignments"]["segment_id"].value_counts(normalize=True)
    for segment in fit["segments"]:
        row = checks.loc[f"segment {segment['segment_id']} share change"]
        assert row["reference_value"] == segment["share"]
        assert row["current_value"] == pytest.approx(assigned[segment["segment_id"]], abs=1e-12)
        assert row["value"] == pytest.approx(
            abs(assigned[segment["segment_id"]] - segment["share"]), abs=1e-12)
    ratio = never["assignments"]["distance_to_centroid"].mean() / fit["mean_distance"]
    assert checks.loc["mean distance ratio", "value"] == pytest.approx(ratio, rel=1e-12)
    # On the unchanged sample (build 2) the fit's own customers: no drift at all.
    same = builds["same"]["drift"]
    same = same[same["run_number"] == 2]
    assert len(same) == len(checks) and not same["is_drifted"].any()
    assert same.loc[same["check_type"] != "mean_distance", "value"].abs().max() == 0


def test_drift_tests_pass_on_unchanged_data_and_warn_on_the_drifted_population(builds):
    for name in DRIFT_TESTS:
        assert f"PASS {name}" in builds["same"]["stdout"], name
    lines = builds["never"]["stdout"].splitlines()
    warned = [name for name in DRIFT_TESTS
              if any("WARN" in line and name in line for line in lines)]
    assert DRIFT_TESTS[0] in warned and DRIFT_TESTS[1] in warned


def test_auto_refits_on_drift_and_keeps_ids_matched_to_the_old_fit(builds):
    drifted = builds["drifted"]
    (fit,) = [run for run in drifted["history"] if run["run_number"] == 4]
    assert fit["previous_run_number"] == 1
    matched = {s["segment_id"] for s in fit["segments"] if s["status"] == "matched"}
    assert matched and matched <= set(builds["sample"]["names"])
    # The checks that made it refit stay with the run; the later build has none drifted.
    checks = drifted["drift"]
    assert checks[(checks["run_number"] == 4)]["is_drifted"].any()
    assert set(checks.loc[checks["run_number"] == 4, "fit_run_number"]) == {1}
    aged = builds["aged"]["drift"]
    assert not aged[aged["run_number"] == 5]["is_drifted"].any()
    assert set(aged.loc[aged["run_number"] == 5, "fit_run_number"]) == {4}


def test_names_stay_with_their_ids_across_score_runs_and_refits(builds):
    sample, never, drifted = builds["sample"], builds["never"], builds["drifted"]
    assert never["names"] == sample["names"]
    with connect(drifted["db"]) as con:
        kept = con.sql("select segment_id, segment_name, named_run_number from dim_segments "
                       "where named_run_number = 1").fetchall()
        transitions = con.sql("select from_segment_id, from_segment_name, to_segment_id, "
                              "to_segment_name from segment_transitions "
                              "where from_segment_id is not null").fetchall()
    for segment, name, _ in kept:
        assert sample["names"][segment] == name  # traits unchanged: the name of fit 1
    names = {**sample["names"], **drifted["names"]}
    assert transitions and all(names[a] == a_name and (b is None or names[b] == b_name)
                               for a, a_name, b, b_name in transitions)


def test_outliers_are_about_outlier_fraction_and_the_planted_customer_is_one(builds):
    sample = builds["sample"]["assignments"]
    share = sample["is_outlier"].mean()
    print(f"outlier share on the sample: {share:.4f}")
    assert abs(share - 0.01) < 0.005
    assert (sample.loc[sample["is_outlier"], "outlier_score"] > 1).all()
    assert (sample.loc[~sample["is_outlier"], "outlier_score"] <= 1).all()
    planted = builds["never"]["assignments"].loc[PLANTED]
    assert planted["is_outlier"] and planted["outlier_score"] > 1.3
    with connect(builds["never"]["db"]) as con:
        listed = con.sql("select segment_id, far_features, farthest_feature from "
                         f"segment_outliers where customer_id = '{PLANTED}'").fetchall()
        (outliers,) = con.sql("select count(*) from segment_outliers").fetchall()[0]
    print(f"planted customer: outlier score {planted['outlier_score']:.2f}, far: {listed}")
    assert listed and listed[0][0] == planted["segment_id"]
    # Far on what was planted: big, discounted, often returned orders.
    assert listed[0][2] in {"avg_order_value", "return_rate", "discount_share", "monetary"}
    assert outliers == int(builds["never"]["assignments"]["is_outlier"].sum())


def test_predict_segment_equals_the_build_on_read_only_connections(builds):
    build = builds["never"]["db"]
    with duckdb.connect(str(build), read_only=True) as con:
        rows = con.sql(
            "select f.customer_id, main_marts.predict_segment(f) as segment_id, "
            "main_marts.predict_segment_detail(f) as detail "
            "from main_intermediate.int_customer_features as f order by f.customer_id").df()
        expected = con.sql("select d.*, s.segment_name from main_marts.dim_customer_segments d "
                           "join main_marts.dim_segments s using (segment_id) "
                           "order by customer_id").df()
    assert rows["customer_id"].tolist() == expected["customer_id"].tolist()
    assert (rows["segment_id"] == expected["segment_id"]).all()
    detail = pd.DataFrame(rows["detail"].tolist())
    assert (detail["distance_to_centroid"] == expected["distance_to_centroid"]).all()
    assert (detail["margin_to_second"] == expected["margin_to_second"]).all()
    assert (detail["second_segment_id"] == expected["second_segment_id"]).all()
    assert (detail["is_outlier"] == expected["is_outlier"]).all()
    assert (detail["segment_name"] == expected["segment_name"]).all()
    assert set(detail["fit_run_number"]) == {1}
    # The serving file has the macros too; a dim row or a struct literal is a valid `f`.
    serving = builds["workdir"] / "custseg_serving.duckdb"
    with duckdb.connect(str(serving), read_only=True) as con:
        served = con.sql("select count(*), count(*) filter (where "
                         "main_marts.predict_segment(d) = d.segment_id) "
                         "from main_marts.dim_customer_segments as d").fetchall()
        features = builds["aged"]["features"].set_index("customer_id").loc[PLANTED]
        literal = ", ".join(f"'{name}': {float(features[name])!r}" for name in (
            "recency_days", "frequency", "monetary", "avg_order_value", "discount_share",
            "return_rate", "category_diversity", "tenure_days"))
        (predicted,) = con.sql(f"select main_marts.predict_segment_detail({{{literal}}})"
                               ).fetchall()[0]
    (total, same), = served
    assert total == same == len(builds["aged"]["assignments"])
    # The serving file is build 5's: the planted customer scored by fit 5, as the mart says.
    aged = builds["aged"]["assignments"].loc[PLANTED]
    assert predicted["segment_id"] == aged["segment_id"]
    assert predicted["distance_to_centroid"] == aged["distance_to_centroid"]
    assert predicted["fit_run_number"] == 5


def test_spark_status_of_predict_segment_is_stated_in_the_readme():
    readme = (REPO / "README.md").read_text()
    assert "predict_segment" in readme and "DuckDB only" in readme
