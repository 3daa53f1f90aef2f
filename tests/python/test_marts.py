"""The marts BI tools and SQL users live on: values recomputed from the customer table, contracts
that fail the build when broken, analyses that compile and run, read-only access, full docs."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import raw_rules

from conftest import DBT, REPO, connect, run_dbt

Z = 1.96
MARTS = {
    "segment_profiles", "segment_feature_profiles", "segment_feature_distributions",
    "segment_feature_histograms", "feature_correlations", "fct_segment_revenue_monthly",
    "segment_campaign_performance",
}
# transform: log1p in the feature catalogue (dbt_project.yml): histogrammed on log(1 + x).
LOG_SCALE_FEATURES = {"frequency", "monetary", "avg_order_value"}
# Input columns of the sample's customers file beyond the input contract: extra numeric
# attributes flow through under their own names, so no YAML can list them in advance.
SAMPLE_EXTRA_ATTRIBUTES = {"loyalty_points"}


def frame(workdir: Path, sql: str) -> pd.DataFrame:
    """A read-only query against workdir's DuckDB file, as a DataFrame."""
    with connect(workdir) as con:
        return con.sql(sql).df()


def manifest(workdir: Path) -> dict:
    return json.loads((workdir / "target" / "manifest.json").read_text())


def wilson(successes: int, trials: int, z: float = Z) -> tuple[float, float]:
    """The Wilson score interval, written out independently of the SQL macro."""
    p = successes / trials
    center = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    denominator = 1 + z * z / trials
    return max(0.0, (center - spread) / denominator), min(1.0, (center + spread) / denominator)


def copy_project(destination: Path) -> Path:
    """A copy of the project without build output, venvs, git data or databases."""
    shutil.copytree(REPO, destination, ignore=shutil.ignore_patterns(
        ".venv", "target", ".git", "logs", "*.duckdb", "*.duckdb.wal", "__pycache__", "reports"))
    return destination


@pytest.fixture(scope="module")
def customer_values(sample_build) -> pd.DataFrame:
    """Every customer's segment and feature values, straight from the feature table."""
    return frame(sample_build, """
        select segments.segment_id, features.*
        from int_customer_features as features
        inner join int_customer_segments as segments using (customer_id)
    """)


@pytest.fixture(scope="module")
def distributions(sample_build) -> pd.DataFrame:
    return frame(sample_build, "select * from segment_feature_distributions")


def test_distributions_equal_statistics_recomputed_in_pandas(customer_values, distributions):
    features = sorted(distributions["feature"].unique())
    assert {"monetary", "recency_days", "frequency", "annual_income"} <= set(features)
    assert len(distributions) == len(features) * customer_values["segment_id"].nunique()
    for feature in features:
        grouped = customer_values.groupby("segment_id")[feature].apply(
            lambda values: values.dropna().astype(float))
        for segment_id, values in grouped.groupby(level=0):
            row = distributions.query("segment_id == @segment_id and feature == @feature").iloc[0]
            assert row["customers"] == len(values), (segment_id, feature)
            if values.empty:
                continue
            expected = {
                "mean": values.mean(), "min": values.min(), "max": values.max(),
                "p05": values.quantile(0.05), "p25": values.quantile(0.25),
                "median": values.quantile(0.5), "p75": values.quantile(0.75),
                "p95": values.quantile(0.95),
            }
            if len(values) > 1:
                expected["stddev"] = values.std(ddof=1)
            for column, value in expected.items():
                assert row[column] == pytest.approx(value, rel=1e-9, abs=1e-9), (
                    segment_id, feature, column)


def test_histograms_use_shared_edges_and_sum_to_non_null_counts(
    sample_build, customer_values, distributions
):
    histograms = frame(sample_build, "select * from segment_feature_histograms")
    bins = int(histograms["bin_number"].max())
    assert bins == 10
    features = histograms["feature"].unique()
    for feature in features:
        values = customer_values[["segment_id", feature]].dropna()
        raw = values[feature].astype(float).to_numpy()
        log_scale = feature in LOG_SCALE_FEATURES
        if log_scale:  # equal widths in log(1 + x), as the clustering sees these features
            raw = np.log(1 + np.maximum(raw, 0))
        low, high = np.quantile(raw, [0.01, 0.99])
        if high <= low:
            low, high = raw.min(), raw.max()
        width = high - low
        if width > 0:
            expected_bins = np.clip(np.floor((raw - low) * bins / width).astype(int) + 1, 1, bins)
        else:
            expected_bins = np.ones(len(raw), dtype=int)
        expected = (pd.DataFrame({"segment_id": values["segment_id"].to_numpy(),
                                  "bin_number": expected_bins})
                    .value_counts().rename("expected").reset_index())
        actual = histograms[histograms["feature"] == feature].merge(
            expected, on=["segment_id", "bin_number"], how="left").fillna({"expected": 0})
        assert (actual["customers"] == actual["expected"]).all(), feature
        # The same edges for every segment, contiguous, from the 1st to the 99th percentile.
        edges = actual.groupby("bin_number")[["bin_lower", "bin_upper"]].nunique()
        assert (edges == 1).all().all(), feature
        ordered = actual[actual["segment_id"] == actual["segment_id"].min()].sort_values(
            "bin_number")
        unscale = np.expm1 if log_scale else (lambda edge: edge)
        assert ordered["bin_lower"].iloc[0] == pytest.approx(unscale(low))
        assert ordered["bin_upper"].iloc[-1] == pytest.approx(unscale(high))
        assert np.allclose(ordered["bin_upper"].iloc[:-1], ordered["bin_lower"].iloc[1:])
    # Bins sum to each segment's customers with a value; shares sum to 1.
    sums = histograms.groupby(["segment_id", "feature"])["customers"].sum().rename("binned")
    joined = distributions.set_index(["segment_id", "feature"]).join(sums, how="inner")
    assert len(joined) == len(sums)
    assert (joined["binned"] == joined["customers"]).all()
    shares = histograms.groupby(["segment_id", "feature"])["share_of_segment"].sum()
    assert np.allclose(shares[sums > 0], 1.0)


def test_correlations_are_pearson_over_the_clustering_features(sample_build, customer_values):
    correlations = frame(sample_build, "select * from feature_correlations")
    used = set(frame(sample_build, """
        select feature from int_segment_fit_features where is_used
    """)["feature"])
    assert set(correlations["feature_a"]) == used
    assert len(correlations) == len(used) ** 2
    matrix = correlations.set_index(["feature_a", "feature_b"])
    prepared = frame(sample_build, "select * from int_customer_features_prepared")
    for (feature_a, feature_b), row in matrix.iterrows():
        mirrored = matrix.loc[(feature_b, feature_a)]
        assert row["correlation"] == pytest.approx(mirrored["correlation"], abs=1e-12)
        assert -1 <= row["correlation"] <= 1 and -1 <= row["correlation_prepared"] <= 1
        pairs = customer_values[[feature_a, feature_b]].dropna().astype(float).to_numpy()
        assert row["customers"] == len(pairs)
        expected = np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1]
        assert row["correlation"] == pytest.approx(expected, abs=1e-9), (feature_a, feature_b)
        expected_prepared = np.corrcoef(
            prepared[feature_a].astype(float), prepared[feature_b].astype(float))[0, 1]
        assert row["correlation_prepared"] == pytest.approx(expected_prepared, abs=1e-9)
        if feature_a == feature_b:
            assert row["correlation"] == pytest.approx(1.0)
    # The sample's known structure: more orders mean more revenue.
    assert matrix.loc[("frequency", "monetary"), "correlation"] > 0.5


def test_monthly_revenue_adds_up_to_completed_orders_per_segment(sample_build):
    monthly = frame(sample_build, "select * from fct_segment_revenue_monthly")
    # Expected from the raw seed CSVs by the README's staging rules (raw_rules), not the SQL:
    # completed orders up to the as-of date (the latest accepted transaction date).
    segments = frame(sample_build, "select customer_id, segment_id from int_customer_segments")
    transactions = raw_rules.accepted_transactions()
    as_of = transactions["transaction_ts"].dt.normalize().max()
    completed = transactions[(transactions["status"] == "completed")
                             & (transactions["transaction_ts"].dt.normalize() <= as_of)]
    completed = completed.merge(segments, on="customer_id", how="inner")
    assert len(completed) == (transactions["status"] == "completed").sum()
    completed = completed.assign(
        revenue_month=completed["transaction_ts"].dt.to_period("M").dt.to_timestamp())
    expected = completed.groupby(["segment_id", "revenue_month"]).agg(
        revenue=("net_amount", "sum"), orders=("net_amount", "size"),
        active_customers=("customer_id", "nunique")).reset_index()
    monthly["revenue_month"] = pd.to_datetime(monthly["revenue_month"])
    # A dense grid: every segment in every month with orders, zeros included.
    assert len(monthly) == monthly["segment_id"].nunique() * monthly["revenue_month"].nunique()
    assert monthly["revenue_month"].nunique() == 36
    joined = monthly.merge(expected, on=["segment_id", "revenue_month"], how="left",
                           suffixes=("", "_expected")).fillna(0)
    for column in ("revenue", "orders", "active_customers"):
        assert np.allclose(joined[column], joined[f"{column}_expected"]), column
    totals = monthly.groupby("segment_id")[["revenue", "orders"]].sum()
    segments = frame(sample_build, """
        select segment_id, sum(monetary) as monetary, sum(frequency) as frequency
        from dim_customer_segments group by all
    """).set_index("segment_id")
    assert np.allclose(totals["revenue"], segments.loc[totals.index, "monetary"], rtol=1e-9)
    assert (totals["orders"] == segments.loc[totals.index, "frequency"]).all()
    assert totals["revenue"].sum() > 1_000_000


def test_campaign_performance_reconciles_with_contacts_and_wilson(sample_build):
    performance = frame(sample_build, "select * from segment_campaign_performance")
    # Expected from the raw seed CSVs by the README's staging rules (raw_rules), not the SQL.
    segments = frame(sample_build, "select customer_id, segment_id from int_customer_segments")
    accepted = raw_rules.accepted_contacts()
    contacts = accepted.merge(segments, on="customer_id", how="inner")
    all_contacts = len(accepted)
    assert performance["contacted"].sum() == all_contacts == len(contacts)
    expected = contacts.groupby(["campaign_id", "segment_id"]).agg(
        contacted=("responded", "size"), responded=("responded", "sum"),
        revenue=("response_revenue", "sum")).reset_index()
    joined = performance.merge(expected, on=["campaign_id", "segment_id"],
                               suffixes=("", "_expected"))
    assert len(joined) == len(performance) == len(expected)
    assert (joined["contacted"] == joined["contacted_expected"]).all()
    assert (joined["responded"] == joined["responded_expected"]).all()
    assert np.allclose(joined["revenue"], joined["revenue_expected"])
    campaign = contacts.groupby("campaign_id")["responded"].mean()
    for row in joined.itertuples():
        rate = row.responded / row.contacted
        lower, upper = wilson(row.responded, row.contacted)
        campaign_rate = campaign[row.campaign_id]
        assert row.response_rate == pytest.approx(rate)
        assert row.response_rate_ci_lower == pytest.approx(lower, abs=1e-12)
        assert row.response_rate_ci_upper == pytest.approx(upper, abs=1e-12)
        assert row.response_rate_ci_lower <= rate <= row.response_rate_ci_upper
        assert row.revenue_per_contact == pytest.approx(row.revenue_expected / row.contacted)
        assert row.campaign_response_rate == pytest.approx(campaign_rate)
        assert row.lift == pytest.approx(rate / campaign_rate)
        assert row.lift_ci_lower == pytest.approx(lower / campaign_rate)
        assert row.lift_ci_upper == pytest.approx(upper / campaign_rate)
    # Small segments get wide intervals: the narrowest belongs to a large segment.
    widths = performance["response_rate_ci_upper"] - performance["response_rate_ci_lower"]
    assert performance.loc[widths.idxmax(), "contacted"] < performance["contacted"].median()
    assert performance["segment_name"].notna().all()
    # The sample plants discount hunters: on discount campaigns one segment's lift interval
    # lies wholly above 1.
    discount = performance[performance["offer_type"] == "discount"]
    assert (discount["lift_ci_lower"] > 1).any()


def compiled_analysis(workdir: Path, name: str) -> str:
    return (workdir / "target" / "compiled" / "custseg" / "analyses" / f"{name}.sql").read_text()


def test_analyses_compile_and_run_read_only(sample_build):
    run_dbt(["compile", "--select", "resource_type:analysis"], sample_build)
    with connect(sample_build) as con:
        targets = con.sql(compiled_analysis(sample_build, "campaign_targets")).df()
        joined = con.sql(compiled_analysis(sample_build, "join_external_campaigns")).df()
        pooled = con.sql("""
            select segment_id, sum(responded) as responded, sum(contacted) as contacted
            from segment_campaign_performance where offer_type = 'discount' group by all
        """).df()
        expected_targets = con.sql("""
            with last_contact as (
                select customer_id, max(contacted_at) as last_contacted_at
                from stg_campaign_contacts group by all
            )
            select customers.customer_id, customers.segment_id
            from dim_customer_segments as customers
            cross join int_as_of_date as as_of
            left join last_contact using (customer_id)
            where last_contact.last_contacted_at is null
                or date_diff('day', cast(last_contact.last_contacted_at as date),
                             as_of.as_of_date) > 90
        """).df()
        (contacts,) = con.sql("select count(*) from stg_campaign_contacts").fetchall()[0]
    # The default segment: the best lower Wilson bound of the pooled discount response rate.
    pooled["lower"] = [wilson(r, n)[0] for r, n in zip(pooled["responded"], pooled["contacted"],
                                                        strict=True)]
    best = int(pooled.sort_values(["lower", "segment_id"], ascending=[False, True])
               .iloc[0]["segment_id"])
    assert len(targets) > 50
    assert set(targets["segment_id"]) == {best}
    assert set(targets["customer_id"]) == set(
        expected_targets.loc[expected_targets["segment_id"] == best, "customer_id"])
    assert (targets["days_since_last_contact"].dropna() > 90).all()
    assert targets["monetary"].is_monotonic_decreasing
    assert joined["sends"].sum() == contacts
    assert "unsegmented" not in set(joined["segment_name"])


def test_campaign_targets_vars_are_normalised_and_checked(sample_build):
    # An offer type as a user types it reads as staging wrote it; `dbt show` prints the rows.
    shown = run_dbt(["show", "--select", "campaign_targets", "--limit", "-1", "--output", "json",
                     "--log-format", "json"], sample_build, {"target_offer_type": " Discount "})
    (preview,) = [json.loads(event["data"]["preview"]) for event in map(
        json.loads, filter(None, shown.stdout.splitlines()))
        if event["info"]["name"] == "ShowNode"]
    with connect(sample_build) as con:
        (best,) = con.sql("select segment_id from segment_offer_response "
                          "where offer_type = 'discount' and is_best_responder").fetchall()[0]
        segment_ids = [i for (i,) in con.sql(
            "select segment_id from dim_segments order by 1").fetchall()]
        offer_types = [o for (o,) in con.sql(
            "select distinct offer_type from segment_offer_response order by 1").fetchall()]
    assert len(preview) > 50 and {row["segment_id"] for row in preview} == {best}
    # Values the build does not have stop, naming the valid ones.
    for variables, message in [
        ({"target_offer_type": "Discunt"},
         f"valid offer types: {', '.join(offer_types)}"),
        ({"target_segment_id": 99}, f"valid segment ids: {', '.join(map(str, segment_ids))}"),
    ]:
        result = run_dbt(["compile", "--select", "campaign_targets"], sample_build, variables,
                         check=False)
        assert result.returncode != 0 and message in result.stdout, result.stdout[-2000:]


def test_join_external_campaigns_runs_on_a_users_own_table(sample_build, tmp_path):
    """A user's campaign table in another database, one id unknown to the segmentation."""
    workdir = tmp_path
    for name in ("custseg.duckdb",):
        os.symlink(sample_build / name, workdir / name)
    run_dbt(["compile", "--select", "join_external_campaigns"], workdir,
            {"external_campaign_table": "crm.main.sends"})
    sql = compiled_analysis(workdir, "join_external_campaigns")
    assert "crm.main.sends" in sql
    with duckdb.connect() as con:
        con.execute(f"attach '{sample_build / 'custseg.duckdb'}' as custseg (read_only)")
        con.execute("attach ':memory:' as crm")
        con.execute("""
            create table crm.main.sends as
            select 'SPRING' as campaign_id, customer_id, customer_id < 'C0000500' as responded
            from (select customer_id from custseg.main_marts.dim_customer_segments
                  order by customer_id limit 40)
            union all select 'SPRING', ' X-UNKNOWN ', true
        """)
        result = con.sql(sql).df()
    assert result["sends"].sum() == 41
    unsegmented = result[result["segment_name"] == "unsegmented"]
    assert unsegmented["sends"].tolist() == [1] and unsegmented["segment_id"].isna().all()


def test_breaking_a_mart_contract_fails_the_build(sample_build, tmp_path):
    project = copy_project(tmp_path / "project")
    shutil.copy(sample_build / "custseg.duckdb", tmp_path / "custseg.duckdb")
    env = {**os.environ, "DUCKDB_PATH": str(tmp_path / "custseg.duckdb"),
           "DBT_PROFILES_DIR": str(project), "DBT_PROJECT_DIR": str(project),
           "DBT_TARGET_PATH": str(project / "target"), "DBT_LOG_PATH": str(tmp_path / "logs")}
    marts = ["fct_segment_revenue_monthly", "segment_campaign_performance"]

    def run() -> subprocess.CompletedProcess:
        return subprocess.run([str(DBT), "run", "--select", *marts], cwd=project, env=env,
                              capture_output=True, text=True)

    control = run()
    assert control.returncode == 0, control.stdout[-3000:]
    monthly = project / "models/marts/marketing/fct_segment_revenue_monthly.sql"
    monthly.write_text(monthly.read_text().replace(
        "cast(coalesce(per_segment_month.revenue, 0) as double) as revenue",
        "cast(coalesce(per_segment_month.revenue, 0) as varchar) as revenue"))
    performance = project / "models/marts/marketing/segment_campaign_performance.sql"
    performance.write_text(performance.read_text().replace(
        "        campaigns.channel,\n", ""))
    broken = run()
    assert broken.returncode != 0
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    assert {r["unique_id"].split(".")[-1]: r["status"] for r in results
            if r["unique_id"].startswith("model.")} == {name: "error" for name in marts}
    assert broken.stdout.count("This model has an enforced contract that failed") == 2
    assert re.search(r"revenue\s*\|\s*VARCHAR\s*\|\s*DOUBLE", broken.stdout)
    assert re.search(r"channel\s*\|\s*\|\s*VARCHAR\s*\|\s*missing in definition", broken.stdout)


def test_marts_are_public_contracted_and_internal_models_protected(sample_build):
    nodes = manifest(sample_build)["nodes"].values()
    models = [n for n in nodes if n["resource_type"] == "model"]
    marts = [n for n in models if n["original_file_path"].startswith("models/marts/")]
    key_tests = [t for t in nodes if t["resource_type"] == "test"
                 and t.get("test_metadata", {}).get("name") in ("unique", "unique_combination")]
    assert {n["name"] for n in marts} >= MARTS
    for node in marts:
        assert node["access"] == "public", node["name"]
        assert node["group"], node["name"]
        assert node["contract"]["enforced"], node["name"]
        assert all(c["data_type"] for c in node["columns"].values()), node["name"]
        has_key_test = any(node["unique_id"] in t["depends_on"]["nodes"] for t in key_tests)
        assert has_key_test, node["name"]
    internal = [n for n in models if n["original_file_path"].startswith(
        ("models/staging/", "models/intermediate/"))]
    assert internal and all(n["access"] == "protected" for n in internal)


def test_read_only_connection_to_the_serving_file_reads_every_mart_and_cannot_write(
        sample_build):
    public = [n for n in manifest(sample_build)["nodes"].values()
              if n["resource_type"] == "model" and n["access"] == "public"]
    marts = sorted(n["name"] for n in public)
    assert set(marts) >= MARTS
    # BI users read one schema: every public model is in it, and only public models are.
    assert {n["schema"] for n in public} == {"main_marts"}
    # As a BI tool connects: plain read-only DuckDB on the serving file the build published,
    # names qualified with the marts schema; it holds the public marts and nothing else.
    with duckdb.connect(str(sample_build / "custseg_serving.duckdb"), read_only=True) as con:
        in_marts = [name for (name,) in con.sql(
            "select table_schema || '.' || table_name as name from information_schema.tables "
            "order by name").fetchall()]
        assert in_marts == [f"main_marts.{mart}" for mart in marts]
        # segment_level_shares has rows only when a categorical feature is clustered on;
        # segment_drift only once a build compares its customers with an earlier fit
        for mart in set(marts) - {"segment_level_shares", "segment_drift"}:
            (rows,) = con.sql(f"select count(*) from main_marts.{mart}").fetchall()[0]
            assert rows > 0, mart
        writes = [
            "insert into main_marts.segment_profiles select * from main_marts.segment_profiles",
            "update main_marts.segment_campaign_performance set lift = 0",
            "delete from main_marts.fct_segment_revenue_monthly",
            "create table main_marts.scratch as select 1 as x",
            "drop table main_marts.feature_correlations",
        ]
        for statement in writes:
            with pytest.raises(duckdb.Error, match="read-only"):
                con.execute(statement)
        (rows,) = con.sql("select count(*) from main_marts.feature_correlations").fetchall()[0]
        assert rows > 0


def test_docs_generate_without_warnings_and_everything_described(sample_build):
    result = run_dbt(["docs", "generate"], sample_build)
    assert "[WARNING]" not in result.stdout and "Warning" not in result.stdout, result.stdout
    nodes = manifest(sample_build)["nodes"]
    catalog = json.loads((sample_build / "target" / "catalog.json").read_text())["nodes"]
    models = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model"}
    undescribed = [n["name"] for n in models.values() if not n["description"].strip()]
    assert not undescribed
    missing = []
    for uid, node in models.items():
        described = {name.lower() for name, column in node["columns"].items()
                     if column["description"].strip()}
        if node["config"]["materialized"] == "ephemeral":  # not in the database nor the catalog
            assert described == {name.lower() for name in node["columns"]}, node["name"]
            continue
        for column in catalog[uid]["columns"]:
            if column.lower() not in described | SAMPLE_EXTRA_ATTRIBUTES:
                missing.append(f"{node['name']}.{column}")
    assert not missing
