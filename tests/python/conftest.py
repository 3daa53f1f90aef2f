"""Shared fixtures: real `dbt build` runs into DuckDB files in temporary directories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from custseg.generate import generate

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
DBT = Path(sys.executable).with_name("dbt")


def run_dbt(
    args: list[str],
    workdir: Path,
    variables: dict | None = None,
    check: bool = True,
    project_dir: Path = REPO,
    unit_tests: bool = False,
) -> subprocess.CompletedProcess:
    """Run the dbt CLI on this project (or a copy of it in project_dir) with its DuckDB file,
    target and logs under workdir.

    A `dbt build` leaves the dbt unit tests out unless unit_tests is set: they feed their model
    fixed inline rows, so the input a pytest test builds on cannot change their outcome. The
    sample build runs them, as the README's command does."""
    env = {
        **os.environ,
        "DUCKDB_PATH": str(workdir / "custseg.duckdb"),
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
        "DBT_PROFILES_DIR": str(project_dir),
        "DBT_PROJECT_DIR": str(project_dir),
    }
    command = [str(DBT), *args]
    if args[:1] == ["build"] and not unit_tests:
        command += ["--exclude-resource-type", "unit_test"]
    if variables:
        command += ["--vars", json.dumps(variables)]
    result = subprocess.run(command, cwd=project_dir, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout[-6000:]}")
    return result


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
    """Builds the project (dbt build) into a new temp dir; returns the dir."""

    def build(name: str, variables: dict | None = None, unit_tests: bool = False) -> Path:
        workdir = tmp_path_factory.mktemp(name)
        run_dbt(["build"], workdir, variables, unit_tests=unit_tests)
        return workdir

    return build


@pytest.fixture(scope="session")
def sample_build(build_project) -> Path:
    """The project built on the bundled sample seeds, as the README's main command does
    (unit tests included)."""
    return build_project("sample", unit_tests=True)
