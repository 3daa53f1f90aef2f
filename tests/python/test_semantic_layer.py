"""The semantic layer: dbt parses the semantic models and metrics cleanly, and, where MetricFlow
(dbt-metricflow) is installed next to this Python, `mf query` answers from the DuckDB file with
the numbers the marts hold."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import REPO, run_dbt

MF = Path(sys.executable).with_name("mf")
METRICS = {
    "customers", "revenue", "orders", "average_order_value", "active_customers", "contacts",
    "responses", "response_rate", "revenue_per_contact", "response_revenue_total",
}


def copy_project(destination: Path) -> Path:
    """A copy of the project without build output, venvs, git data or databases."""
    shutil.copytree(REPO, destination, ignore=shutil.ignore_patterns(
        ".venv", "target", ".git", "logs", "*.duckdb", "*.duckdb.wal", "__pycache__", "reports"))
    return destination


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> tuple[Path, str]:
    """A copy of the project parsed from scratch (`dbt parse --no-partial-parse`, target in the
    copy, where mf looks for it); the copy and dbt's output."""
    project = copy_project(tmp_path_factory.mktemp("semantic") / "project")
    result = run_dbt(["parse", "--no-partial-parse"], project, project_dir=project)
    return project, result.stdout


def test_dbt_parse_is_clean_and_the_semantic_manifest_holds_the_metrics(parsed):
    project, output = parsed
    assert "[WARNING]" not in output and "Warning" not in output, output
    semantic = json.loads((project / "target" / "semantic_manifest.json").read_text())
    assert {m["name"] for m in semantic["metrics"]} == METRICS
    models = {m["name"]: m for m in semantic["semantic_models"]}
    assert set(models) == {
        "segments", "customer_segments", "segment_revenue_monthly", "campaign_segment_responses"}
    # Every fact joins to the segment entity, whose semantic model carries segment_name.
    segment_dimensions = {d["name"] for d in models["segments"]["dimensions"]}
    assert "segment_name" in segment_dimensions
    for name in ("customer_segments", "segment_revenue_monthly", "campaign_segment_responses"):
        assert "segment" in {e["name"] for e in models[name]["entities"]}, name
    spines = semantic["project_configuration"]["time_spines"]
    assert [s["primary_column"]["name"] for s in spines] == ["date_day"]


def mf_query(project: Path, env: dict, metrics: list[str], group_by: list[str]) -> pd.DataFrame:
    out = project / f"{'_'.join(metrics)}.csv"
    result = subprocess.run(
        [str(MF), "query", "--metrics", ",".join(metrics), "--group-by", ",".join(group_by),
         "--csv", str(out)],
        cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 0 and out.exists(), result.stdout[-3000:] + result.stderr[-2000:]
    return pd.read_csv(out)


@pytest.mark.skipif(not MF.exists(), reason=(
    f"MetricFlow's `mf` is not installed next to {sys.executable} "
    "(pip install 'dbt-metricflow>=0.15,<0.16')"))
def test_mf_query_answers_metrics_by_segment_from_the_duckdb_file(sample_build, parsed, tmp_path):
    # mf reads <project>/target/semantic_manifest.json: the parsed copy's. That manifest names
    # the database custseg, as the sample build's custseg.duckdb is.
    project, _ = parsed
    env = {**os.environ, "DUCKDB_PATH": str(sample_build / "custseg.duckdb"),
           "DBT_PROFILES_DIR": str(project), "DBT_PROJECT_DIR": str(project),
           "DBT_TARGET_PATH": str(project / "target"), "DBT_LOG_PATH": str(tmp_path / "logs")}

    by_segment = mf_query(project, env, ["customers", "revenue", "average_order_value"],
                          ["segment", "segment__segment_name"])
    responses = mf_query(project, env, ["response_rate"], ["segment"])
    with duckdb.connect(str(sample_build / "custseg.duckdb"), read_only=True) as con:
        profiles = con.sql("""
            select profiles.segment_id, profiles.segment_name, profiles.customers,
                profiles.revenue, monthly.revenue / monthly.orders as average_order_value
            from main_marts.segment_profiles as profiles
            inner join (
                select segment_id, sum(revenue) as revenue, sum(orders) as orders
                from main_marts.fct_segment_revenue_monthly group by all
            ) as monthly using (segment_id)
        """).df()
        pooled = con.sql("""
            select segment_id, sum(responded) / sum(contacted) as response_rate
            from main_marts.segment_campaign_performance group by all
        """).df()

    joined = profiles.merge(by_segment, left_on="segment_id", right_on="segment")
    assert len(joined) == len(profiles) == len(by_segment)
    assert (joined["customers_x"] == joined["customers_y"]).all()
    assert (joined["segment_name"].fillna("") == joined["segment__segment_name"].fillna("")).all()
    assert joined["revenue_x"].to_numpy() == pytest.approx(joined["revenue_y"].to_numpy())
    assert joined["average_order_value_x"].to_numpy() == pytest.approx(
        joined["average_order_value_y"].to_numpy())
    rates = pooled.merge(responses, left_on="segment_id", right_on="segment")
    assert len(rates) == len(pooled)
    assert rates["response_rate_x"].to_numpy() == pytest.approx(rates["response_rate_y"].to_numpy())
