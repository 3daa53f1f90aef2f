"""The same project on Spark: the bundled sample built on DuckDB and on a local SparkSession
(`segment build --target spark`) gives every customer the same segment id and equal marts.

Spark reads the sample as Parquet from raw_data_dir (the lake case): the raw tables of the
DuckDB build, exported, so both engines start from the same raw text. The Spark marts are
Parquet tables in the warehouse directory; DuckDB reads them for the comparison, so no JVM
starts in the test process. Every Spark command runs in one other process
(tests/python/spark_session.py), which starts the JVM once.

A second build on each engine reads the sample with 5% of customers removed and 5% new ones
(as in test_segment_lifecycle), DuckDB from files and Spark from tables of a metastore
database (var raw_schema, as a loader leaves them), and clusters on a categorical feature too
(membership_tier):
the fit, its level encoding, the membership history (the dbt snapshot, on Spark rewritten as
plain Parquet by macros/spark_snapshot.sql) and segment_transitions must agree.

What runs on Spark: the first Spark build runs every unit test and every data test whose SQL is
the project's own - the singular tests (tests/*.sql) and the custom generic tests
(tests/generic: unique_combination, expression_is_true, equal_row_count, sums_match, no_rows),
which are where the SQL could differ between engines. It leaves out dbt's built-in generic tests
(not_null, unique, accepted_values, relationships: dbt's own portable SQL, about 200 of the 261)
on Spark: they all ran in the DuckDB sample build, and the Spark tables they would check are
compared with DuckDB's row for row below. The second builds leave every data test out (the same
SQL on other rows: what they would check there, the marts compared below check).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from conftest import REPO, changed_tables, connect, run_dbt
from custseg.duckdb_plugin import SALT_ENV
from custseg.run import RUN_SCHEMA

pytestmark = [pytest.mark.long_running, pytest.mark.skipif(
    shutil.which("java") is None,
    reason="Spark needs Java (17) and `java` is not on PATH: the DuckDB-vs-Spark comparison "
           "is skipped (.ci/run installs openjdk-17-jre-headless)")]

SOURCES = ("customers", "transactions", "campaigns", "campaign_contacts")
# Differ between any two builds, whatever the engine.
PER_BUILD_COLUMNS = {"run_id", "fitted_at", "from_snapshot_at", "to_snapshot_at"}
# SHA-256 of the prepared feature bytes: engine-specific, because Spark (Java) and DuckDB
# compute ln() and percentile interpolation with last-bit differences (measured below).
ENGINE_SPECIFIC_COLUMNS = {"feature_fingerprint"}
FLOAT_TOLERANCE = {"rtol": 1e-9, "atol": 1e-9}
SALT = "pepper-spark-5d2e8b07-do-not-log"


SPARK_SESSION = Path(__file__).with_name("spark_session.py")
# dbt's built-in generic tests: dbt's own SQL, the same on every adapter (see the docstring).
DBT_BUILTIN_TESTS = ("not_null", "unique", "accepted_values", "relationships")
# The sample's default features plus a categorical one: the second builds refit on them
# (every segment new, as a changed feature list gives) and compare the encoding on both engines.
REBUILD_FEATURES = ["recency_days", "frequency", "monetary", "avg_order_value", "discount_share",
                    "return_rate", "category_diversity", "tenure_days", "membership_tier"]


def spark_env(workdir: Path, target: str = "target") -> dict[str, str]:
    """The environment of a command on the Spark target in workdir (warehouse and metastore
    kept between commands)."""
    return {"SPARK_WAREHOUSE_DIR": str(workdir / "warehouse"),
            # 3,000 customers: one shuffle partition, no Java generated per query or expression,
            # no adaptive re-planning, the JVM's single-threaded garbage collector. Measured on
            # this file alone (2 cores): the JVM's CPU 455 s -> 319 s, the file 322 s -> 271 s.
            "SPARK_SHUFFLE_PARTITIONS": "1", "SPARK_CODEGEN": "false", "SPARK_ADAPTIVE": "false",
            "JAVA_TOOL_OPTIONS": "-XX:+UseSerialGC",
            "DBT_TARGET_PATH": str(workdir / target),
            "DBT_LOG_PATH": str(workdir / "logs"),
            "DBT_PROFILES_DIR": str(REPO), "DBT_PROJECT_DIR": str(REPO)}


def exported_raw_inputs(sample_build: Path, raw_dir: Path) -> Path:
    """The sample's raw tables as the DuckDB build loaded them (text), as Parquet files."""
    raw_dir.mkdir()
    with duckdb.connect(str(sample_build / "custseg.duckdb"), read_only=True) as con:
        for source in SOURCES:
            con.sql(f"copy main_raw.raw_{source} to '{raw_dir / source}.parquet' "
                    "(format parquet)")
    return raw_dir


@pytest.fixture(scope="module")
def changed_input(sample_build, tmp_path_factory) -> dict:
    """The raw sample as Parquet minus every 20th customer, plus 160 new ones."""
    tmp = tmp_path_factory.mktemp("changed")
    with duckdb.connect(str(sample_build / "custseg.duckdb"), read_only=True) as con:
        sample = {source: con.sql(f"select * from main_raw.raw_{source}").df()
                  for source in SOURCES}
    tables, removed, added = changed_tables(tmp, sample)
    raw_dir = tmp / "raw"
    raw_dir.mkdir()
    with duckdb.connect() as con:
        for source, table in tables.items():
            con.register("raw_table", table)
            # Text as in the seeds: every column a string, empty cells null.
            columns = ", ".join(f'nullif(cast("{c}" as varchar), \'\') as "{c}"'
                                for c in table.columns)
            con.sql(f"copy (select {columns} from raw_table) to '{raw_dir / source}.parquet' "
                    "(format parquet)")
            con.unregister("raw_table")
    return {"raw_dir": raw_dir, "removed": removed, "added": added,
            "vars": {"raw_data_dir": str(raw_dir), "segmentation_features": REBUILD_FEATURES}}


# The metastore database the second Spark build reads the changed input from (var raw_schema:
# tables a loader wrote), where the DuckDB rebuild reads the same rows as files.
LOADER_DATABASE = "crm_raw"


@pytest.fixture(scope="module")
def spark_workdir(sample_build, changed_input, tmp_path_factory) -> Path:
    """Every command on Spark, in one process (tests/python/spark_session.py), in order:
    `segment build --target spark` on the sample files (every unit test and the project's own
    data tests on Spark, dbt's built-in generic ones left out: see the module docstring), a
    copy of its tables and manifest to first/, the changed input loaded into the metastore
    database crm_raw, the second build reading it from there (var raw_schema; data tests left
    out: what they would check there, the marts compared below check), then two `dbt show`
    previews of customer_key with and without CUSTSEG_ID_SALT. The logs are in logs/*.log."""
    pytest.importorskip("pyspark", reason="the [spark] extra is not installed: "
                                          "pip install -e '.[dev,spark]'")
    workdir = tmp_path_factory.mktemp("spark")
    raw_dir = exported_raw_inputs(sample_build, workdir / "raw")
    env = spark_env(workdir)
    rebuild_vars = {"raw_schema": LOADER_DATABASE,
                    "segmentation_features": changed_input["vars"]["segmentation_features"]}
    show = [*SHOW_COMMAND, "--vars", json.dumps({**rebuild_vars,
                                                "pseudonymize_customer_ids": True})]
    plan = [
        {"log": str(workdir / "logs" / "first_build.log"), "env": env,
         "exclude": [f"test_name:{name}" for name in DBT_BUILTIN_TESTS],
         "segment": ["build", "--target", "spark",
                     "--vars", json.dumps({"raw_data_dir": str(raw_dir)})]},
        {"log": str(workdir / "logs" / "copy.log"),
         "copy": [str(workdir / "warehouse"), str(workdir / "first" / "warehouse")]},
        {"log": str(workdir / "logs" / "copy.log"),
         "copy": [str(workdir / "target"), str(workdir / "first" / "target")]},
        {"log": str(workdir / "logs" / "loader.log"),
         "sql": [f"create database {LOADER_DATABASE}", *(
             f"create table {LOADER_DATABASE}.{source} using parquet as "
             f"select * from parquet.`{changed_input['raw_dir'] / source}.parquet`"
             for source in SOURCES)]},
        {"log": str(workdir / "logs" / "second_build.log"),
         "env": {**env, "DBT_EXCLUDE_RESOURCE_TYPES": "test unit_test"},
         "segment": ["build", "--target", "spark", "--vars", json.dumps(rebuild_vars)]},
        {"log": str(workdir / "logs" / "show_salted.log"),
         "env": {**spark_env(workdir, "show_target"), "DBT_EXCLUDE_RESOURCE_TYPES": None,
                 SALT_ENV: "$SPARK_TEST_SALT"},  # the salt itself is written nowhere
         "dbt": [*show, "--inline", "select {{ customer_key('customer_id') }} as customer_id, "
                                    "segment_id from {{ ref('dim_customer_segments') }}"]},
        # the same vars and target dir as the salted preview: dbt reuses its parse (partial
        # parsing; the salt is a Spark conf from the profile, not something dbt parses)
        {"log": str(workdir / "logs" / "show_unsalted.log"), "env": {SALT_ENV: None},
         "dbt": [*show, "--inline", "select {{ customer_key(\"'C0001'\") }} as customer_key"]},
    ]
    (workdir / "plan.json").write_text(json.dumps(plan, indent=1))
    started = subprocess.run([sys.executable, str(SPARK_SESSION), str(workdir / "plan.json")],
                             cwd=workdir, env={**{k: v for k, v in os.environ.items()
                                                  if k != SALT_ENV}, "SPARK_TEST_SALT": SALT},
                             capture_output=True, text=True)
    assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
    return workdir


SHOW_COMMAND = ["show", "--target", "spark", "--limit", "-1", "--output", "json",
                "--log-format", "json"]


def spark_log(workdir: Path, name: str, succeeded: bool = True) -> str:
    """The console output of one command of the plan; asserts its outcome."""
    log = (workdir / "logs" / f"{name}.log").read_text()
    code = int(log.rstrip().rsplit("exit code ", 1)[1])
    assert (code == 0) == succeeded, log[-6000:]
    return log


@pytest.fixture(scope="module")
def spark_build(spark_workdir) -> Path:
    """The sample built on Spark (a copy of the first build's tables and manifest)."""
    assert "segment build: fit run 1 on Spark (K = " in spark_log(spark_workdir, "first_build")
    return spark_workdir / "first"


@pytest.fixture(scope="module")
def duckdb_rebuild(sample_build, changed_input, tmp_path_factory) -> Path:
    """A second DuckDB build, on the changed input, over a copy of the sample build."""
    workdir = tmp_path_factory.mktemp("duckdb_rebuild")
    shutil.copy(sample_build / "custseg.duckdb", workdir / "custseg.duckdb")
    run_dbt(["build", "--exclude-resource-type", "test"], workdir, changed_input["vars"])
    return workdir


@pytest.fixture(scope="module")
def spark_rebuild(spark_workdir) -> Path:
    """The second Spark build, on the changed input, over the first one."""
    assert "segment build: fit run 2 on Spark (K = " in spark_log(spark_workdir, "second_build")
    return spark_workdir


def spark_files(workdir: Path, name: str) -> str:
    """The Parquet files of a table the Spark build wrote (in the warehouse, under its layer's
    database custseg_<layer>.db), as a DuckDB read_parquet() source."""
    (files,) = (workdir / "warehouse").glob(f"custseg*.db/{name}")
    return f"read_parquet('{files}/*.parquet')"


def spark_table(workdir: Path, name: str) -> pd.DataFrame:
    """A table the Spark build wrote, read with DuckDB."""
    return duckdb.sql(f"select * from {spark_files(workdir, name)}").df()


def duckdb_table(workdir: Path, name: str) -> pd.DataFrame:
    with connect(workdir) as con:
        return con.sql(f"select * from {name}").df()


def spark_marts(workdir: Path) -> list[str]:
    """Every mart the Spark build made, from its manifest."""
    manifest = json.loads((workdir / "target" / "manifest.json").read_text())
    return sorted(node["name"] for node in manifest["nodes"].values()
                  if node["resource_type"] == "model" and "marts" in node["fqn"]
                  and node["config"]["enabled"])


def canonical_map(value: dict | None) -> str | None:
    """A map column's value as text: entries sorted by key, numbers to 12 significant digits."""
    if value is None:
        return None
    entries = {str(key): (f"{float(item):.12g}" if isinstance(item, (int, float, Decimal))
                          and not isinstance(item, bool) else item)
               for key, item in value.items()}
    return json.dumps(entries, sort_keys=True, default=str)


def normalised(table: pd.DataFrame) -> pd.DataFrame:
    """Comparable form: no per-build columns, plain dtypes, rows sorted on the exact columns."""
    dropped = PER_BUILD_COLUMNS | ENGINE_SPECIFIC_COLUMNS
    table = table.drop(columns=[c for c in table.columns if c in dropped])
    for column in table.columns:
        if pd.api.types.is_numeric_dtype(table[column]) and not pd.api.types.is_bool_dtype(
                table[column]):
            table[column] = table[column].astype("float64")
        elif pd.api.types.is_datetime64_any_dtype(table[column]):
            table[column] = pd.to_datetime(table[column]).dt.tz_localize(None).astype(str)
        elif table[column].map(lambda value: isinstance(value, dict)).any():
            table[column] = table[column].map(canonical_map)
        else:
            table[column] = table[column].astype(object).where(table[column].notna(), None)
    exact = [c for c in table.columns if table[c].dtype != "float64"]
    keys = exact + [c for c in table.columns if c not in exact]
    return table.sort_values(keys, na_position="first", ignore_index=True)[sorted(table.columns)]


def differences(expected: pd.DataFrame, actual: pd.DataFrame) -> list[str]:
    """Column-by-column differences (floats within FLOAT_TOLERANCE); empty when equal."""
    if list(expected.columns) != list(actual.columns):
        return [f"columns {list(expected.columns)} != {list(actual.columns)}"]
    if len(expected) != len(actual):
        return [f"{len(expected)} rows != {len(actual)} rows"]
    found = []
    for column in expected.columns:
        left, right = expected[column], actual[column]
        if left.dtype == "float64":
            same = np.isclose(left, right, equal_nan=True, **FLOAT_TOLERANCE)
        else:
            same = (left == right) | (left.isna() & right.isna())
        if not same.all():
            first = int(np.flatnonzero(~np.asarray(same))[0])
            found.append(f"{column}: {(~np.asarray(same)).sum()} rows differ, e.g. "
                         f"{left.iloc[first]!r} != {right.iloc[first]!r}")
    return found


def test_the_projects_own_data_tests_and_the_unit_tests_pass_on_spark(spark_workdir,
                                                                       spark_build):
    # The first Spark build (both of its dbt steps) ran exactly the data tests whose SQL is the
    # project's own, as the Spark manifest lists them, and every unit test; it succeeded, so
    # they passed (a failing or erroring test stops `segment build`).
    log = spark_log(spark_workdir, "first_build")
    manifest = json.loads((spark_build / "target" / "manifest.json").read_text())
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
    own = [node["name"] for node in tests
           if (node.get("test_metadata") or {}).get("name") not in DBT_BUILTIN_TESTS]
    singular = [node["name"] for node in tests if not node.get("test_metadata")]
    assert len(own) >= 50 and len(singular) >= 7
    summaries = re.findall(r"Finished running .*? (\d+) data tests?, (\d+) unit tests?", log)
    assert len(summaries) == 2, summaries
    assert sum(int(data) for data, _ in summaries) == len(own)
    assert sum(int(unit) for _, unit in summaries) == len(manifest["unit_tests"])
    assert all(re.search(rf"(PASS|WARN) {name}\b", log) for name in singular), singular
    assert not re.search(r" (PASS|WARN|FAIL|ERROR) not_null_", log)


def test_every_customer_gets_the_same_segment_on_spark(sample_build, spark_build):
    on_duckdb = duckdb_table(sample_build, "int_customer_segments")
    on_spark = spark_table(spark_build, "int_customer_segments")
    merged = on_duckdb.merge(on_spark, on="customer_id", how="outer", suffixes=("", "_spark"),
                             indicator=True)
    assert (merged["_merge"] == "both").all(), merged["_merge"].value_counts()
    moved = merged[merged["segment_id"] != merged["segment_id_spark"]]
    assert moved.empty, f"{len(moved)} of {len(merged)} customers in another segment on Spark"
    assert merged["segment_id"].nunique() >= 2


def test_spark_prepares_the_same_features_to_the_last_bits(sample_build, spark_build):
    on_duckdb = duckdb_table(sample_build, "int_customer_features_prepared")
    on_spark = spark_table(spark_build, "int_customer_features_prepared")
    on_duckdb = on_duckdb.sort_values("customer_id", ignore_index=True)
    on_spark = on_spark.sort_values("customer_id", ignore_index=True)[on_duckdb.columns]
    assert on_duckdb["customer_id"].tolist() == on_spark["customer_id"].tolist()
    values = on_duckdb.columns.drop("customer_id")
    left = on_duckdb[values].to_numpy(dtype=float)
    right = on_spark[values].to_numpy(dtype=float)
    # Equal up to a few units in the last place (log1p features: ln() differs by an ulp).
    assert np.allclose(left, right, rtol=1e-14, atol=0, equal_nan=True)


def history_parts(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, pd.DataFrame]:
    """The run history's scalar columns, and each list column unnested (one frame each)."""
    lists = [field.name for field in RUN_SCHEMA if pa.types.is_list(field.type)]
    scalars = ", ".join(field.name for field in RUN_SCHEMA if field.name not in lists)
    parts = {"run": con.sql(f"select {scalars} from {relation}").df()}
    for name in lists:
        parts[name] = con.sql(
            f"select run_number, unnest({name}, recursive := true) from {relation}").df()
    return parts


def fit_differences(duckdb_dir: Path, spark_dir: Path) -> dict[str, list[str]]:
    """Every part of the run history on Spark against DuckDB's (empty when all are equal)."""
    with duckdb.connect() as con:
        on_spark = history_parts(con, spark_files(spark_dir, "segment_model_history"))
    with connect(duckdb_dir) as con:
        on_duckdb = history_parts(con, "segment_model")
    assert len(on_duckdb["centroids"]) > 0
    found = {name: differences(normalised(on_duckdb[name]), normalised(on_spark[name]))
             for name in on_duckdb}
    return {name: diff for name, diff in found.items() if diff}


def test_the_fit_is_the_same_on_spark(sample_build, spark_build):
    assert fit_differences(sample_build, spark_build) == {}


def test_a_categorical_refit_is_the_same_on_spark(duckdb_rebuild, spark_rebuild):
    # Run 2 clusters on membership_tier too: its levels and their centroids (one-hot, weighted)
    # are learned and stored alike on both engines.
    with connect(duckdb_rebuild) as con:
        levels = con.sql("select distinct feature from int_segment_fit_levels").fetchall()
    assert levels == [("membership_tier",)]
    assert fit_differences(duckdb_rebuild, spark_rebuild) == {}


def mart_differences(duckdb_dir: Path, spark_dir: Path) -> dict[str, list[str]]:
    """Every mart of the Spark build against DuckDB's (empty when all are equal)."""
    marts = spark_marts(spark_dir)
    assert {"dim_customer_segments", "segment_profiles", "segment_runs",
            "segment_transitions"} <= set(marts)
    # Spark databases per layer, as DuckDB schemas: the marts in custseg_marts.
    assert all((spark_dir / "warehouse" / "custseg_marts.db" / mart).is_dir() for mart in marts)
    mismatched = {}
    for mart in marts:
        found = differences(normalised(duckdb_table(duckdb_dir, mart)),
                            normalised(spark_table(spark_dir, mart)))
        if found:
            mismatched[mart] = found
    return mismatched


def test_every_mart_matches_on_spark(sample_build, spark_build):
    assert mart_differences(sample_build, spark_build) == {}


def test_every_mart_matches_on_spark_after_a_second_build(duckdb_rebuild, spark_rebuild):
    assert mart_differences(duckdb_rebuild, spark_rebuild) == {}


def naive(times: pd.Series) -> pd.Series:
    times = pd.to_datetime(times)
    return times.dt.tz_convert(None) if times.dt.tz is not None else times


def snapshot_numbers(*columns: pd.Series) -> dict:
    """Snapshot time -> 1, 2, ... in time order (the times differ between builds)."""
    times = sorted(set(pd.concat([naive(column) for column in columns]).dropna()))
    return {time: number for number, time in enumerate(times, start=1)}


def numbered_history(snapshot: pd.DataFrame) -> pd.DataFrame:
    """The snapshot's customer_id, segment_id and validity as snapshot numbers (valid_to 0 =
    current version), sorted."""
    numbers = snapshot_numbers(snapshot["dbt_valid_from"], snapshot["dbt_valid_to"])
    history = pd.DataFrame({
        "customer_id": snapshot["customer_id"].astype(str),
        "segment_id": snapshot["segment_id"].astype("int64"),
        "valid_from": naive(snapshot["dbt_valid_from"]).map(numbers).astype("int64"),
        "valid_to": naive(snapshot["dbt_valid_to"]).map(numbers).fillna(0).astype("int64"),
    })
    return history.sort_values(["customer_id", "valid_from"], ignore_index=True)


def numbered_transitions(transitions: pd.DataFrame) -> pd.DataFrame:
    """segment_transitions with snapshot numbers (0 = before the first) and -1 for no
    segment, sorted."""
    numbers = snapshot_numbers(transitions["from_snapshot_at"], transitions["to_snapshot_at"])
    numbered = pd.DataFrame({
        "from_snapshot": naive(transitions["from_snapshot_at"]).map(numbers).fillna(0),
        "to_snapshot": naive(transitions["to_snapshot_at"]).map(numbers),
        "from_segment_id": transitions["from_segment_id"].fillna(-1),
        "to_segment_id": transitions["to_segment_id"].fillna(-1),
        "transition": transitions["transition"].astype(str),
        "customers": transitions["customers"],
    })
    numbered = numbered.astype({column: "int64" for column in numbered.columns
                                if column != "transition"})
    return numbered.sort_values(list(numbered.columns), ignore_index=True)


def assignments(workdir: Path) -> dict[str, int]:
    table = spark_table(workdir, "dim_customer_segments")
    return dict(zip(table["customer_id"], table["segment_id"].astype(int), strict=True))


def test_the_snapshot_on_spark_closes_left_and_moved_customers(
        spark_build, spark_rebuild, duckdb_rebuild, changed_input):
    snapshot = spark_table(spark_rebuild, "customer_segments_snapshot")
    assert snapshot["dbt_scd_id"].is_unique
    history = numbered_history(snapshot)
    pd.testing.assert_frame_equal(
        history, numbered_history(duckdb_table(duckdb_rebuild, "customer_segments_snapshot")))
    first, second = assignments(spark_build), assignments(spark_rebuild)
    left = first.keys() - second.keys()
    moved = {c for c in first.keys() & second.keys() if first[c] != second[c]}
    new = second.keys() - first.keys()
    print(f"snapshot on Spark: {len(first)} customers, then {len(second)}: {len(left)} left, "
          f"{len(new)} new, {len(moved)} moved; {len(history)} rows")
    assert len(left) > 100 and len(new) > 100
    assert left <= changed_input["removed"] and new <= changed_input["added"]
    assert set(history["valid_from"]) == {1, 2}
    versions = {(row.customer_id, row.segment_id)
                for row in history.itertuples()}
    assert len(history) == len(first) + len(new) + len(moved) == len(versions)
    taken_first = history[history["valid_from"] == 1]
    assert dict(zip(taken_first["customer_id"], taken_first["segment_id"], strict=True)) == first
    current = history[history["valid_to"] == 0]
    assert dict(zip(current["customer_id"], current["segment_id"], strict=True)) == second
    closed = history[history["valid_to"] != 0]
    assert set(closed["valid_to"]) == {2} and set(closed["valid_from"]) == {1}
    assert set(closed["customer_id"]) == left | moved
    assert set(history.loc[history["valid_from"] == 2, "customer_id"]) == new | moved


def test_transitions_on_spark_count_who_stayed_moved_came_and_left(
        spark_build, spark_rebuild, duckdb_rebuild):
    on_spark = numbered_transitions(spark_table(spark_rebuild, "segment_transitions"))
    on_duckdb = numbered_transitions(duckdb_table(duckdb_rebuild, "segment_transitions"))
    pd.testing.assert_frame_equal(on_spark, on_duckdb)
    first, second = assignments(spark_build), assignments(spark_rebuild)
    both = first.keys() & second.keys()
    moved = sum(first[c] != second[c] for c in both)
    counts = {"stayed": len(both) - moved, "moved": moved,
              "new": len(second.keys() - first.keys()), "left": len(first.keys() - second.keys())}
    expected = {transition: count for transition, count in counts.items() if count}
    pair = on_spark[on_spark["from_snapshot"] == 1]
    assert set(pair["to_snapshot"]) == {2}
    totals = pair.groupby("transition")["customers"].sum().to_dict()
    print(f"transitions on Spark (snapshot 1 -> 2): {totals}")
    assert totals == expected
    moves = pair[pair["transition"] == "moved"]
    assert (moves["from_segment_id"] != moves["to_segment_id"]).all()
    first_snapshot = on_spark[on_spark["from_snapshot"] == 0]
    assert set(first_snapshot["transition"]) == {"new"}
    assert first_snapshot["customers"].sum() == len(first)


@pytest.fixture(scope="module")
def spark_pseudonymised_ids(spark_rebuild) -> dict[str, int]:
    """dim_customer_segments on Spark keyed by macro customer_key with pseudonymize_customer_ids
    (the ids the DuckDB serving file publishes; the marts keep real ids), previewed by `dbt show`
    with the salt in CUSTSEG_ID_SALT, which profiles.yml passes to the Spark conf."""
    log = spark_log(spark_rebuild, "show_salted")
    previews = [json.loads(event["data"]["preview"]) for event in map(json.loads, (
        line for line in log.splitlines() if line.startswith("{")))
        if event["info"]["name"] == "ShowNode"]
    assert len(previews) == 1
    return {row["customer_id"]: int(row["segment_id"]) for row in previews[0]}


def test_spark_refuses_pseudonymising_without_a_salt(spark_rebuild):
    # As on DuckDB: no salt is an error that names the fix, not unsalted hashes.
    log = spark_log(spark_rebuild, "show_unsalted", succeeded=False)
    assert "custseg.id_salt is empty: export CUSTSEG_ID_SALT" in log


def test_spark_pseudonymises_ids_as_duckdb_does(spark_rebuild, spark_pseudonymised_ids):
    # The same salted SHA-256 as test_pseudonymisation asserts on DuckDB.
    expected = {hashlib.sha256((SALT + customer_id).encode()).hexdigest(): segment
                for customer_id, segment in assignments(spark_rebuild).items()}
    assert spark_pseudonymised_ids == expected
    leaks = [path for path in spark_rebuild.rglob("*")
             if path.is_file() and SALT.encode() in path.read_bytes()]
    assert leaks == []
