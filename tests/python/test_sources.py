"""The inputs are dbt sources read from one origin: the bundled seeds, files (raw_data_dir) or
warehouse tables (raw_schema), under the user's own column names (column_map, common spellings).

The same data from each origin gives the same segments; `dbt source freshness` reports on
transactions; a header without a required column stops the build with one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import REPO, query, run_dbt, sample_tables

# Export-style headers (UCI Online Retail, CRM exports): recognised without any setting.
EXPORT_HEADERS = {
    "customers": {"customer_id": "CustomerID"},
    "transactions": {"transaction_id": "InvoiceNo", "customer_id": "Customer ID",
                     "transaction_ts": "InvoiceDate", "quantity": "Qty", "unit_price": "UnitPrice"},
    "campaign_contacts": {"customer_id": "cust_id"},
}
SEGMENTS_SQL = """
    select customer_id, segment_id, distance_to_centroid, second_segment_id, margin_to_second
    from dim_customer_segments order by customer_id"""
QUALITY_SQL = "select source, reason, rows from data_quality_summary order by all"


def segments(workdir: Path) -> pd.DataFrame:
    return pd.DataFrame(query(workdir, SEGMENTS_SQL)).set_index(0)


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory) -> Path:
    """The sample as CSV files with export-style headers, plus a column no contract column takes."""
    directory = tmp_path_factory.mktemp("export_input")
    for name, table in sample_tables().items():
        table = table.rename(columns=EXPORT_HEADERS.get(name, {}))
        if name == "transactions":
            table["StockCode"] = "X1"
        table.to_csv(directory / f"{name}.csv", index=False)
    return directory


@pytest.fixture(scope="module")
def files_build(tmp_path_factory, export_dir) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("files_origin")
    result = run_dbt(["build"], workdir, {"raw_data_dir": str(export_dir)})
    return workdir, result.stdout


LOADER_VARS = {"raw_schema": "loader",
               "column_map": {"customers": {"membership_tier": "Membership Type"}}}


@pytest.fixture(scope="module")
def warehouse_build(tmp_path_factory) -> Path:
    """The sample as tables a loader wrote into schema `loader` of the DuckDB file, typed as a
    loader would type them, one column under the user's own name (mapped by column_map)."""
    workdir = tmp_path_factory.mktemp("warehouse_origin")
    with duckdb.connect(str(workdir / "custseg.duckdb")) as con:
        con.execute("create schema loader")
        for name in ("customers", "transactions", "campaigns", "campaign_contacts"):
            path = REPO / "seeds" / f"raw_{name}.csv"
            con.execute(f"create table loader.{name} as select * "
                        f"from read_csv('{path}', all_varchar = true)")
        con.execute('alter table loader.customers rename membership_tier to "Membership Type"')
    run_dbt(["build"], workdir, LOADER_VARS)
    return workdir


def test_every_origin_gives_the_same_segments(sample_build, files_build, warehouse_build):
    seeds = segments(sample_build)
    assert len(seeds) > 1000
    for other in (files_build[0], warehouse_build):
        pd.testing.assert_frame_equal(segments(other), seeds, check_exact=False, rtol=1e-12)
        # the same validation and quarantine: the same reject counts, reason by reason
        assert query(other, QUALITY_SQL) == query(sample_build, QUALITY_SQL)
    # seeds load in the default origin only
    assert query(warehouse_build, "select count(*) from information_schema.tables "
                                  "where table_schema = 'main_raw'") == [(0,)]


def test_lineage_starts_at_the_sources(sample_build):
    manifest = json.loads((sample_build / "target" / "manifest.json").read_text())
    for name in ("customers", "transactions", "campaigns", "campaign_contacts"):
        parents = manifest["nodes"][f"model.custseg.base_{name}"]["depends_on"]["nodes"]
        assert f"source.custseg.raw.{name}" in parents
        # the default origin's seed stays a parent: dbt build loads it first
        assert f"seed.custseg.raw_{name}" in parents


def test_export_style_headers_are_recognised_and_unused_columns_reported(files_build):
    workdir, stdout = files_build
    assert query(workdir, "select count(*) from stg_transactions")[0][0] > 50_000
    lines = [line for line in stdout.splitlines() if "map to no contract column" in line]
    assert len(lines) == 1 and "StockCode" in lines[0] and "transactions.csv" in lines[0]


def test_source_freshness_reports_on_transactions(warehouse_build, files_build, export_dir):
    raw = sample_tables()["transactions"]["transaction_ts"]
    parsed = pd.to_datetime(raw, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    latest = parsed[parsed <= pd.Timestamp.now()].max()
    for workdir, variables in ((warehouse_build, LOADER_VARS),
                               (files_build[0], {"raw_data_dir": str(export_dir)})):
        # the sample is from 2024: past the default thresholds (24 h warn, 72 h error)
        result = run_dbt(["source", "freshness"], workdir, variables, check=False)
        assert result.returncode == 1 and "raw.transactions" in result.stdout, result.stdout
        sources = json.loads((workdir / "target" / "sources.json").read_text())["results"]
        assert [s["unique_id"] for s in sources] == ["source.custseg.raw.transactions"]
        assert sources[0]["status"] == "error"
        assert pd.Timestamp(sources[0]["max_loaded_at"]).tz_localize(None) == latest
    result = run_dbt(["source", "freshness"], warehouse_build,
                     {**LOADER_VARS, "freshness_warn_after_hours": None,
                      "freshness_error_after_hours": 24 * 365 * 100})
    assert json.loads((warehouse_build / "target" / "sources.json").read_text()
                      )["results"][0]["status"] == "pass"


def test_column_map_names_a_column_the_input_lacks(tmp_path, export_dir):
    result = run_dbt(["build"], tmp_path, {"raw_data_dir": str(export_dir), "column_map": {
        "customers": {"membership_tier": "tier"}}}, check=False)
    assert result.returncode != 0
    assert "column_map.customers.membership_tier" in result.stdout
    assert "has no column 'tier'" in result.stdout


def test_a_header_without_a_required_column_stops_the_build_with_one_line(tmp_path):
    raw_dir = tmp_path / "input"
    raw_dir.mkdir()
    (raw_dir / "customers.csv").write_text("id,Age,City\nA1,30,Leeds\nA2,41,York\n")
    result = run_dbt(["build"], tmp_path, {"raw_data_dir": str(raw_dir)}, check=False)
    assert result.returncode != 0
    message = (f"{raw_dir / 'customers.csv'} has columns id, Age, City but customers needs "
               "customer_id")
    lines = [line for line in result.stdout.splitlines() if message in line]
    assert len(lines) == 1, result.stdout
