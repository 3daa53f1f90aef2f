"""Builds that die or collide: the previous marts survive, and a clash fails with a clear error.

Both tests drive real `dbt build` processes against one DuckDB file (copies of the sample
build; its data tests ran there, so these builds leave them out: what is tested here is what
happens to the file). They wait on what the running build writes to its log (polled, with a
deadline), never on fixed sleeps.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Collection
from pathlib import Path

import duckdb
import pytest

from conftest import DBT, REPO, run_dbt

# What every build of this file runs: models, seeds and the snapshot, no data tests.
BUILD = [str(DBT), "build", "--exclude-resource-type", "test", "unit_test"]
# Marts that record every build (run history, centroid drift and drift checks per run, snapshot
# transitions): a completed re-run adds to them by design; every other mart must come out
# identical.
RUN_HISTORY_MARTS = {"segment_runs", "segment_centroid_drift", "segment_drift",
                     "segment_transitions"}
LOG_DEADLINE_SECONDS = 300


def dbt_env(workdir: Path, name: str) -> dict[str, str]:
    """Environment of a dbt process on workdir's DuckDB file, with its own target and logs."""
    return {
        **os.environ,
        "DUCKDB_PATH": str(workdir / "custseg.duckdb"),
        "DBT_TARGET_PATH": str(workdir / f"target_{name}"),
        "DBT_LOG_PATH": str(workdir / f"logs_{name}"),
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_PROJECT_DIR": str(REPO),
    }


def start_build(workdir: Path, name: str) -> subprocess.Popen:
    """Starts `dbt build` in its own process group (so only it is ever signalled)."""
    return subprocess.Popen(BUILD, cwd=REPO, env=dbt_env(workdir, name),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def wait_for_log(workdir: Path, name: str, needle: str, process: subprocess.Popen) -> None:
    """Polls the build's dbt.log until a line contains needle; fails if the build ends first."""
    log = workdir / f"logs_{name}" / "dbt.log"
    deadline = time.monotonic() + LOG_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if log.exists() and any(needle in line for line in log.read_text().splitlines()):
            return
        if process.poll() is not None:
            pytest.fail(f"build {name} ended (rc {process.returncode}) before logging {needle!r}")
        time.sleep(0.1)
    pytest.fail(f"build {name} did not log {needle!r} within {LOG_DEADLINE_SECONDS} s")


def mart_names(workdir: Path) -> list[str]:
    """The mart models of the project, from the manifest of the build in workdir."""
    manifest = json.loads((workdir / "target" / "manifest.json").read_text())
    return sorted(node["name"] for node in manifest["nodes"].values()
                  if node["resource_type"] == "model"
                  and node["original_file_path"].startswith("models/marts/"))


def sort_key(row: tuple) -> str:
    """Orders rows the same way on every build: floats only to 6 significant digits."""
    return repr(tuple(f"{value:.6g}" if isinstance(value, float) else value for value in row))


def mart_contents(workdir: Path, marts: list[str]) -> dict[str, list[tuple]]:
    """Every row of every mart, read through a read-only connection (as BI tools would)."""
    with duckdb.connect(str(workdir / "custseg.duckdb"), read_only=True) as con:
        return {mart: sorted(con.sql(f"select * from main_marts.{mart}").fetchall(),
                             key=sort_key)
                for mart in marts}


def same_rows(left: list[tuple], right: list[tuple]) -> bool:
    """Equal rows, floats equal to 1e-9 relative: parallel aggregation may change the last
    bits between builds (a correlation of 1.0 comes out as 0.9999999999999999)."""
    return len(left) == len(right) and all(
        len(a) == len(b) and all(
            math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
            if isinstance(x, float) and isinstance(y, float) else x == y
            for x, y in zip(a, b, strict=True))
        for a, b in zip(left, right, strict=True))


def assert_same_marts(after: dict, before: dict, skip: Collection[str] = ()) -> None:
    """Every mart of before (but those in skip) has the same rows in after."""
    for mart in before:
        if mart not in skip:
            assert same_rows(after[mart], before[mart]), mart


@pytest.fixture(scope="module")
def built(sample_build, tmp_path_factory) -> tuple[Path, list[str], dict[str, list[tuple]]]:
    """A copy of the sample build (its database file): its dir, its marts and their
    contents."""
    workdir = tmp_path_factory.mktemp("robust")
    shutil.copy(sample_build / "custseg.duckdb", workdir / "custseg.duckdb")
    marts = mart_names(sample_build)
    assert "dim_customer_segments" in marts and "segment_runs" in marts
    return workdir, marts, mart_contents(workdir, marts)


def test_a_killed_build_leaves_the_previous_marts_and_a_rerun_completes(built):
    workdir, marts, before = built
    build = start_build(workdir, "killed")
    # Kill it while the K-means model runs: staging and intermediate tables have been rebuilt,
    # the model's run is half done, no mart downstream of it has started.
    wait_for_log(workdir, "killed",
                 "START python incremental model main_intermediate.segment_model", build)
    os.killpg(build.pid, signal.SIGKILL)
    build.wait()
    assert build.returncode == -signal.SIGKILL
    log = (workdir / "logs_killed" / "dbt.log").read_text()
    assert "Done. PASS=" not in log  # it really died midway

    # Every mart is still there, read-only, row for row as before: no partial run recorded.
    assert_same_marts(mart_contents(workdir, marts), before)

    # The next build completes and gives the same results, plus one more run in the history.
    run_dbt(["build", "--exclude-resource-type", "test"], workdir)
    after = mart_contents(workdir, marts)
    assert_same_marts(after, before, skip=RUN_HISTORY_MARTS)
    assert len(after["segment_runs"]) == len(before["segment_runs"]) + 1


def test_a_second_build_on_the_same_file_fails_clearly_and_the_first_completes(built):
    workdir, marts, before = built
    first = start_build(workdir, "first")
    try:
        # Once the first build runs a node it holds DuckDB's write lock on the file; pausing it
        # there makes the overlap certain, however slow the machine.
        wait_for_log(workdir, "first", "START", first)
        os.killpg(first.pid, signal.SIGSTOP)
        second = subprocess.run(BUILD, cwd=REPO, env=dbt_env(workdir, "second"),
                                capture_output=True, text=True)
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    output, _ = first.communicate(timeout=LOG_DEADLINE_SECONDS)

    assert second.returncode != 0
    database = workdir / "custseg.duckdb"
    # dbt's own summary line names the cause, the file and the process holding it
    summary = second.stdout[second.stdout.index("Encountered an error:"):]
    assert f'Could not set lock on file "{database}"' in summary.splitlines()[1]
    assert "Conflicting lock is held in" in summary and f"(PID {first.pid})" in summary
    # it failed before touching anything: no model ran
    assert "START" not in second.stdout

    assert first.returncode == 0, output[-3000:]
    assert_same_marts(mart_contents(workdir, marts), before, skip=RUN_HISTORY_MARTS)
