"""Degenerate data: a valid result with a recorded warning, or one clear line naming the fix.

Each case is a real `dbt build` on files written here and fed through raw_data_dir (one that
must stop builds what leads to the stop).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, query, run_dbt

FAILURE = "The segmentation could not be fitted"


def write_customers(directory: Path, rows: list[dict]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    columns = ["customer_id", "signup_date", "age", "gender", "city", "membership_tier",
               "annual_income"]
    pd.DataFrame(rows, columns=columns).to_csv(directory / "customers.csv", index=False)
    return directory


def customer(i: int, age: int = 30, income: int = 50_000, city: str = "leeds") -> dict:
    return {"customer_id": f"C{i:03d}", "signup_date": "2024-01-01", "age": age,
            "gender": "female", "city": city, "membership_tier": "gold", "annual_income": income}


def failed_build(tmp_path: Path, rows: list[dict], variables: dict | None = None) -> str:
    """The output of a build that must stop at the fit: everything up to int_segment_fit (the
    model that stops) and segment_runs (the history it leaves), without the data tests."""
    raw_dir = write_customers(tmp_path / "input", rows)
    result = run_dbt(["build", "--select", "+int_segment_fit", "segment_runs",
                      "--exclude-resource-type", "test"], tmp_path,
                     {"raw_data_dir": str(raw_dir), **(variables or {})}, check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stdout, result.stdout[-3000:]
    # an error of the data or the settings, not of the project's code, counted once: dbt's
    # summary, its ERROR= and the build summary agree (the marts that read the failed fit
    # through a view are skipped, not counted as errors)
    assert "Compilation Error" not in result.stdout
    assert re.search(r"Completed with 1 error\b", result.stdout), result.stdout[-3000:]
    assert "ERROR=1 " in result.stdout and "\n1 error: int_segment_fit\n" in result.stdout
    assert re.search(r"Fit: run \d+ could not fit: ", result.stdout)
    return result.stdout


@pytest.mark.parametrize("rows, expected", [
    ([], "0 customers to segment, at least 3 are needed"),
    ([customer(1)], "1 customers to segment, at least 3 are needed"),
    ([customer(i) for i in range(6)], "none of the segmentation features is usable"),
], ids=["empty input", "one customer", "identical customers"])
def test_unsegmentable_data_stops_the_build_with_one_clear_line(tmp_path, rows, expected):
    output = failed_build(tmp_path, rows)
    assert FAILURE in output and expected in output
    # The failed run is kept in the history, with its reason; no fit is the latest one.
    assert query(tmp_path, "select error is not null, chosen_k, is_latest from segment_runs") == [
        (True, None, False)]


def test_more_segments_than_distinct_customers_names_the_var_to_change(tmp_path):
    rows = [customer(i, age=20 + i, income=30_000 + 1_000 * i) for i in range(5)]
    output = failed_build(tmp_path, rows, {"n_segments": 8,
                                           "segmentation_features": ["age", "annual_income"]})
    assert "n_segments is 8 but the data has only 5 distinct customers" in output


def test_a_k_range_beyond_the_data_is_cut_short_with_a_warning(tmp_path):
    rows = [customer(i, age=20 + 7 * i, income=20_000 + 9_000 * i) for i in range(6)]
    raw_dir = write_customers(tmp_path / "input", rows)
    run_dbt(["build", "--select", "+dim_customer_segments", "segment_runs",
             "--indirect-selection", "cautious"], tmp_path,
            {"raw_data_dir": str(raw_dir), "segmentation_features": ["age", "annual_income"]})
    [(warnings, chosen_k)] = query(tmp_path, "select warnings, chosen_k from segment_runs")
    assert "K range 2..8 cut to 2..5: only 6 customers (6 distinct)" in warnings
    assert 2 <= chosen_k <= 5
    assert query(tmp_path, "select count(*) from dim_customer_segments") == [(6,)]


def read_raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def awkward_build(tmp_path_factory) -> Path:
    """The sample plus non-ASCII cities, customers without transactions, transactions without
    a customer, and one customer whose spend is a thousand times anyone else's."""
    tmp = tmp_path_factory.mktemp("awkward")
    names = ("customers", "transactions", "campaigns", "campaign_contacts")
    tables = {name: read_raw(REPO / "seeds" / f"raw_{name}.csv") for name in names}
    customers, transactions = tables["customers"], tables["transactions"]
    customers.loc[:2, "city"] = ["São Paulo", "Zürich", "北京市"]
    extra = customers.iloc[:3].copy()
    extra["customer_id"] = ["X001", "X002", "X003"]  # no transactions at all
    outlier = transactions.iloc[:1].copy()
    outlier["transaction_id"] = "T_OUTLIER"
    outlier["customer_id"] = transactions.loc[0, "customer_id"]
    outlier["unit_price"] = "99999999.00"
    orphans = transactions.iloc[:2].copy()
    orphans["transaction_id"] = ["T_ORPHAN1", "T_ORPHAN2"]
    orphans["customer_id"] = "NOBODY"
    tables["customers"] = pd.concat([customers, extra], ignore_index=True)
    tables["transactions"] = pd.concat([transactions, outlier, orphans], ignore_index=True)
    raw_dir = tmp / "input"
    raw_dir.mkdir()
    for name, table in tables.items():
        table.to_csv(raw_dir / f"{name}.csv", index=False)
    workdir = tmp / "work"
    run_dbt(["build"], workdir, {"raw_data_dir": str(raw_dir)})
    return workdir


def test_non_ascii_text_passes_through_unchanged(awkward_build):
    cities = {row[0] for row in query(awkward_build, "select city from dim_customer_segments")}
    assert {"são paulo", "zürich", "北京市"} <= cities


def test_customers_without_transactions_are_segmented(awkward_build):
    rows = query(awkward_build, "select has_purchases, frequency, segment_id is not null "
                                "from dim_customer_segments where customer_id like 'X%'")
    assert rows == [(False, 0, True)] * 3


def test_transactions_without_a_customer_are_quarantined(awkward_build):
    rows = query(awkward_build, "select reject_reason, count(*) from stg_rejects "
                                "where source = 'transactions' and raw_record like '%NOBODY%' "
                                "group by 1")
    assert rows == [("orphan_customer_id", 2)]


def test_an_extreme_outlier_does_not_get_or_drag_a_centroid(awkward_build):
    [(segment, monetary)] = query(awkward_build, "select segment_id, monetary "
                                                 "from dim_customer_segments "
                                                 "where monetary > 1e7")
    assert monetary > 9e7
    [(size, centroid)] = query(awkward_build, f"""
        select p.customers, c.centroid_value from segment_profiles as p
        inner join segment_centroids as c using (segment_id)
        where p.segment_id = {segment} and c.feature = 'monetary'""")
    [(upper,)] = query(awkward_build, "select upper_bound from int_feature_bounds "
                                      "where feature = 'monetary'")
    assert size > 30 and centroid <= upper
