"""Shared fixtures: real `dbt build` runs into DuckDB files in temporary directories."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from custseg.generate import generate

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
DBT = Path(sys.executable).with_name("dbt")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files marked long_running first, every other test in its collected order: with
    pytest-xdist's --dist loadfile --no-loadscope-reorder (pyproject.toml) the Spark file
    starts at once on one worker while the other takes the rest, instead of running alone at
    the end."""
    items.sort(key=lambda item: item.get_closest_marker("long_running") is None)


@dataclass
class DbtResult:
    """What a dbt command left: its exit code (0 success, 1 failure, 2 error) and its console
    output, as the CLI would print them."""

    args: list[str]
    returncode: int
    stdout: str


def run_dbt(
    args: list[str],
    workdir: Path,
    variables: dict | None = None,
    check: bool = True,
    project_dir: Path = REPO,
    unit_tests: bool = False,
) -> DbtResult:
    """Run a dbt command on this project (or a copy of it in project_dir) with its DuckDB file,
    target and logs under workdir.

    The command runs in this process (dbt's programmatic entry point, dbtRunner), as the CLI
    would with the same arguments and environment: the pytest worker imports dbt, the adapter
    and scikit-learn once instead of once per command (about 3 s a command). The DuckDB file is
    closed when the command ends, as when the CLI process exits.

    A `dbt build` leaves the dbt unit tests out unless unit_tests is set: they feed their model
    fixed inline rows, so the input a pytest test builds on cannot change their outcome. The
    sample build runs them, as the README's command does."""
    command = list(args)
    if args[:1] == ["build"] and not unit_tests:
        command += ["--exclude-resource-type", "unit_test"]
    if variables:
        command += ["--vars", json.dumps(variables)]
    env = {
        "DUCKDB_PATH": str(workdir / "custseg.duckdb"),
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
        "DBT_PROFILES_DIR": str(project_dir),
        "DBT_PROJECT_DIR": str(project_dir),
    }
    started = time.perf_counter()
    result = _invoke_dbt(command, env, project_dir)
    _record_timing(command, time.perf_counter() - started)
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(command)} failed:\n{result.stdout[-6000:]}")
    return result


def _invoke_dbt(command: list[str], env: dict[str, str], cwd: Path) -> DbtResult:
    """dbt `command` in this process with `env` set and the working directory `cwd`, its
    console output captured; the adapter's DuckDB connection is closed afterwards."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    output = io.StringIO()
    saved = {name: os.environ.get(name) for name in env}
    previous_dir = Path.cwd()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            outcome = dbtRunner().invoke(command)
    finally:
        os.chdir(previous_dir)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _close_duckdb(DuckDBConnectionManager)
    text = output.getvalue()
    if outcome.exception is not None and str(outcome.exception) not in text:
        text += f"\n{outcome.exception}\n"
    returncode = 0 if outcome.success else (1 if outcome.exception is None else 2)
    return DbtResult(command, returncode, text)


def _close_duckdb(manager: type) -> None:
    """Close dbt-duckdb's process-wide DuckDB environment, as the end of a CLI process does, so
    the file can be opened (read-only, or by the next command) again."""
    with manager._LOCK:
        if manager._ENV is not None:
            try:
                manager._ENV.close()
            finally:
                manager._ENV = None
        manager._LOGGED_MESSAGES.clear()


def _record_timing(command: list[str], seconds: float) -> None:
    """Append the command and its wall time to $CUSTSEG_TEST_TIMINGS (a JSON-lines file), when
    set: where the suite's time goes."""
    path = os.environ.get("CUSTSEG_TEST_TIMINGS")
    if path:
        test = os.environ.get("PYTEST_CURRENT_TEST", "")
        with open(path, "a") as log:
            log.write(json.dumps({"test": test, "command": command[:3],
                                  "seconds": round(seconds, 2)}) + "\n")


# The project's DuckDB schemas (dbt_project.yml: one per layer, named <target schema>_<layer>
# by dbt), searched in this order for the unqualified table names of test SQL.
SCHEMAS = ("main_marts", "main_intermediate", "main_staging", "main_snapshots", "main_raw",
           "main_reference")


def connect(db_path: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to a project DuckDB file (or the one in a work dir) that finds every table
    by its unqualified name: the search path is the project's schemas the file has."""
    if db_path.is_dir():
        db_path = db_path / "custseg.duckdb"
    con = duckdb.connect(str(db_path), read_only=read_only)
    present = {name for (name,) in con.sql(
        "select schema_name from information_schema.schemata "
        "where catalog_name = current_database()").fetchall()}
    con.sql(f"set search_path = '{','.join(s for s in SCHEMAS if s in present) or 'main'}'")
    return con


def query(workdir: Path, sql: str) -> list[tuple]:
    """Rows of a read-only query against workdir's DuckDB file."""
    with connect(workdir) as con:
        return con.sql(sql).fetchall()


def read_raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def sample_tables() -> dict[str, pd.DataFrame]:
    names = ("customers", "transactions", "campaigns", "campaign_contacts")
    return {name: read_raw(REPO / "seeds" / f"raw_{name}.csv") for name in names}


def changed_tables(tmp: Path, tables: dict[str, pd.DataFrame] | None = None,
                   ) -> tuple[dict[str, pd.DataFrame], set[str], set[str]]:
    """The sample (or the given raw tables) minus every 20th customer, plus 160 generated
    customers with new ids: the changed input of the lifecycle tests."""
    tables = sample_tables() if tables is None else tables
    ids = tables["customers"]["customer_id"]
    removed = set(ids[::20])
    generate(tmp / "extra", n_customers=160, n_transactions=3200, seed=7, fmt="csv")
    extra = {name: read_raw(tmp / "extra" / f"{name}.csv")
             for name in ("customers", "transactions", "campaign_contacts")}
    for table in extra.values():
        table["customer_id"] = table["customer_id"].str.replace("C", "N", n=1)
    extra["transactions"]["transaction_id"] = extra["transactions"]["transaction_id"].str.replace(
        "T", "U", n=1)
    changed = {"campaigns": tables["campaigns"]}
    for name in ("customers", "transactions", "campaign_contacts"):
        kept = tables[name][~tables[name]["customer_id"].isin(removed)]
        changed[name] = pd.concat([kept, extra[name]], ignore_index=True)
    return changed, removed, set(extra["customers"]["customer_id"])


@pytest.fixture(scope="session")
def build_project(tmp_path_factory) -> Callable[..., Path]:
    """Builds the project (dbt build; without its data tests when data_tests is false) into a
    new temp dir; returns the dir."""

    def build(name: str, variables: dict | None = None, unit_tests: bool = False,
              data_tests: bool = True) -> Path:
        workdir = tmp_path_factory.mktemp(name)
        flags = [] if data_tests else ["--exclude-resource-type", "test"]
        run_dbt(["build", *flags], workdir, variables, unit_tests=unit_tests)
        return workdir

    return build


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory) -> Path:
    """A directory every pytest-xdist worker of this run sees (the parent of the workers' own
    temp dirs; this run's temp dir without xdist)."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared_builds"
    root.mkdir(exist_ok=True)
    return root


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing): one process at a time."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def shared_build(shared_root, tmp_path_factory) -> Callable[..., Path]:
    """A build made once per test run, whichever worker asks first, and copied for each worker
    that uses it (a DuckDB file takes one writing process: each worker gets its own files).

    shared_build(name, make) runs make(directory) the first time `name` is asked for (the
    other worker waits for it) and returns this worker's copy of the directory."""
    copies: dict[str, Path] = {}

    def get(name: str, make: Callable[[Path], None]) -> Path:
        if name not in copies:
            built = shared_root / name
            with _locked(shared_root / f"{name}.lock"):
                if not (built / ".done").exists():
                    shutil.rmtree(built, ignore_errors=True)
                    built.mkdir()
                    make(built)
                    (built / ".done").touch()
            copy = tmp_path_factory.mktemp(name)
            shutil.copytree(built, copy, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".done", "logs"))
            copies[name] = copy
        return copies[name]

    return get


@pytest.fixture(scope="session")
def sample_build(shared_build) -> Path:
    """The project built on the bundled sample seeds, as the README's main command does (unit
    tests included): built once per test run, a copy per worker."""
    return shared_build("sample", lambda workdir: run_dbt(["build"], workdir, unit_tests=True))


# The sample refitted with other settings, shared by the tests of several files: name ->
# (vars, the first model to rebuild; None = a build from scratch, for settings that change the
# features, such as as_of_date).
VARIANTS: dict[str, tuple[dict, str | None]] = {
    # k_selecton is misspelt on purpose: ignored, and said so (test_pipeline)
    "configured": ({"k_selection": "elbow", "scaler": "robust", "as_of_date": "2026-06-30",
                    "segmentation_features": ["recency_days", "frequency", "monetary",
                                              "loyalty_points"],
                    "k_selecton": "silhouette"}, None),
    "one_feature": ({"segmentation_features": ["monetary"], "n_segments": 4}, "segment_model"),
    # the catalogue's default set plus two categorical attributes of the sample
    "categorical": ({"segmentation_features": [
        "recency_days", "frequency", "monetary", "avg_order_value", "discount_share",
        "return_rate", "category_diversity", "tenure_days", "membership_tier", "gender"]},
        "int_customer_features_prepared"),
    "categorical_only": ({"segmentation_features": ["membership_tier", "gender"],
                          "n_segments": 4}, "int_customer_features_prepared"),
}


@pytest.fixture(scope="session")
def variant_build(shared_build, sample_build) -> Callable[[str], Path]:
    """variant_build(name): the sample built with the settings VARIANTS[name] gives, made once
    per test run (a copy per worker). A refit starts from a copy of the sample build and
    rebuilds the named model and everything downstream with `--full-refresh`, so the run
    history starts over with this fit."""

    def get(name: str) -> Path:
        variables, start = VARIANTS[name]

        def make(workdir: Path) -> None:
            if start is None:
                run_dbt(["build"], workdir, variables)
                return
            shutil.copytree(sample_build, workdir, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("logs"))
            run_dbt(["build", "--select", f"{start}+", "--full-refresh"], workdir, variables)

        return shared_build(f"variant_{name}", make)

    return get


def write_marketing_campaign(directory: Path) -> None:
    """The Kaggle marketing_campaign data (../shared/data) on the input contract: 2,240 real
    customers with their own columns (Education and Marital_Status as extra text columns, the
    spends and purchase counts as extra numeric ones, no column_map) plus a note unique to each
    customer, which is free text and no categorical feature; its 6 real campaigns
    (AcceptedCmp1..5, Response) as campaigns and one contact per customer and campaign."""
    source = SHARED_DATA / "marketing_campaign" / "marketing_campaign.csv"
    campaigns = ["AcceptedCmp1", "AcceptedCmp2", "AcceptedCmp3", "AcceptedCmp4",
                 "AcceptedCmp5", "Response"]
    with duckdb.connect() as con:
        con.execute(f"create view raw as select * from read_csv('{source}', delim = '\t', "
                    "header = true)")
        con.execute(f"""copy (
            select cast(ID as varchar) as customer_id,
                   cast(Dt_Customer as date) as signup_date,
                   2014 - Year_Birth as age, Income as annual_income,
                   * exclude (ID, Dt_Customer, Income, {", ".join(campaigns)}),
                   'joined on ' || Dt_Customer || ' as no. ' || ID as "Customer Note"
            from raw) to '{directory / "customers.parquet"}'""")
        con.execute(f"""copy (
            select * from (values {", ".join(f"('{c}', '{c}', 'email', 'mixed', "
                                            f"date '2014-01-01', date '2014-06-30')"
                                            for c in campaigns)})
                t(campaign_id, campaign_name, channel, offer_type, start_date, end_date)
            ) to '{directory / "campaigns.csv"}' (header)""")
        con.execute(f"""copy (
            {" union all ".join(f"select '{c}' as campaign_id, cast(ID as varchar) as "
                                f"customer_id, null as contacted_at, {c} = 1 as responded, "
                                f"null as response_revenue from raw" for c in campaigns)}
            ) to '{directory / "campaign_contacts.parquet"}'""")


needs_shared_data = pytest.mark.skipif(not (SHARED_DATA / "marketing_campaign").exists(),
                                       reason="needs ../shared/data beside the repository")


@pytest.fixture(scope="session")
def marketing_campaign_build(shared_build) -> Path:
    """marketing_campaign (write_marketing_campaign) built once per test run, segmented on
    income, two log-transformed spends, purchase counts, kids at home and the two categorical
    columns Education and Marital_Status."""

    def make(workdir: Path) -> None:
        raw_dir = workdir / "input"
        raw_dir.mkdir()
        write_marketing_campaign(raw_dir)
        run_dbt(["build"], workdir, {
            "raw_data_dir": str(raw_dir),
            "segmentation_features": ["annual_income", "mntwines", "mntmeatproducts",
                                      "numwebpurchases", "numstorepurchases", "kidhome",
                                      "education", "marital_status"],
            "extra_features": {"mntwines": {"transform": "log1p"},
                               "mntmeatproducts": {"transform": "log1p"}},
        })

    return shared_build("marketing_campaign", make)
