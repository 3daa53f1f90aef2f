"""The serving file readers open (macros/serving.sql, custseg.serving): builds and readers never
block each other, a failed build leaves it as it was, and it holds the public marts and nothing
personal.

One workdir starts from the sample build (run 1) and is rebuilt twice while a reader process
holds a read-only connection to its serving file: run 2 with pseudonymize_customer_ids and a
Parquet copy, run 3 without; then a build that fails. The rebuilds leave the data tests out
(they ran in the sample build): what is tested is the file a build leaves for readers."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import duckdb
import jinja2
import pytest

from conftest import REPO, run_dbt
from custseg import serving
from custseg.duckdb_plugin import SALT_ENV

SALT = "serving-salt-2b9e41d7-do-not-log"
SERVING = "custseg_serving.duckdb"
NO_DATA_TESTS = ["--exclude-resource-type", "test"]
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
HEX_ID = re.compile(r"[0-9a-f]{64}")
RUN_NUMBER = "select max(run_number) from main_marts.segment_runs"
# A reader process: a read-only connection held open; each line on stdin asks for the latest
# run number, `reconnect` first closes it and opens a new one.
READER = textwrap.dedent(f"""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.sql({RUN_NUMBER!r}).fetchall()[0][0], flush=True)
    for line in sys.stdin:
        if line.strip() == "reconnect":
            con.close()
            con = duckdb.connect(sys.argv[1], read_only=True)
        print(con.sql({RUN_NUMBER!r}).fetchall()[0][0], flush=True)
""")


@dataclass
class Served:
    """What the builds of the module fixture left and what the reader saw."""

    workdir: Path
    pseudonymised: Path          # the serving file as run 2 (pseudonymised) published it
    parquet_dir: Path            # run 2's Parquet copy
    reader_runs: dict[str, int]  # what the reader saw, by moment
    membership: dict[str, list]  # the build file's snapshot and transitions, by moment
    failed_build: subprocess.CompletedProcess
    serving_before_failure: tuple[bytes, int]  # content and inode
    scratch_relations: list[tuple]


def membership(db: Path) -> list:
    with duckdb.connect(str(db), read_only=True) as con:
        return [con.sql("select * from main_snapshots.customer_segments_snapshot "
                        "order by all").fetchall(),
                con.sql("select * from main_marts.segment_transitions order by all").fetchall()]


def ask(reader: subprocess.Popen, line: str = "") -> int:
    reader.stdin.write(line + "\n")
    reader.stdin.flush()
    return int(reader.stdout.readline())


@pytest.fixture(scope="module")
def served(sample_build, tmp_path_factory) -> Served:
    workdir = tmp_path_factory.mktemp("serving")
    for name in ("custseg.duckdb", SERVING):
        shutil.copyfile(sample_build / name, workdir / name)
    parquet = workdir / "lake" / "marts"
    seen, history = {}, {"plain": membership(workdir / "custseg.duckdb")}
    reader = subprocess.Popen([sys.executable, "-c", READER, str(workdir / SERVING)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        seen["opened"] = int(reader.stdout.readline())
        with pytest.MonkeyPatch.context() as env:
            env.setenv(SALT_ENV, SALT)
            env.setenv(serving.PARQUET_DIR_ENV, str(parquet))
            run_dbt(["build", *NO_DATA_TESTS], workdir, {"pseudonymize_customer_ids": True})
        history["pseudonymised"] = membership(workdir / "custseg.duckdb")
        pseudonymised = shutil.copyfile(workdir / SERVING, workdir / "run2_serving.duckdb")
        seen["open after run 2"] = ask(reader)
        run_dbt(["build", *NO_DATA_TESTS], workdir)
        seen["open after run 3"] = ask(reader)
        seen["reconnected"] = ask(reader, "reconnect")
    finally:
        reader.stdin.close()
        reader.wait(timeout=60)
    before = ((workdir / SERVING).read_bytes(), (workdir / SERVING).stat().st_ino)
    failed = run_dbt(["build"], workdir, {"column_map": {"customers": {"customer_id": "nope"}}},
                     check=False)
    with duckdb.connect(str(workdir / "custseg.duckdb"), read_only=True) as con:
        scratch = con.sql("select table_schema, table_name from information_schema.tables "
                          "where table_name like '%dbt_tmp%'").fetchall()
    return Served(workdir, pseudonymised, parquet, seen, history, failed, before, scratch)


def test_readers_and_builds_never_block_each_other(served):
    # Both builds succeeded (run_dbt checks) with the reader's connection open all along; the
    # open connection kept answering from the version it opened, a new one sees the last build.
    assert served.reader_runs == {"opened": 1, "open after run 2": 1, "open after run 3": 1,
                                  "reconnected": 3}


def test_a_failed_build_leaves_the_serving_file_unchanged(served):
    assert served.failed_build.returncode != 0
    assert "Serving file not published: base_customers failed" in served.failed_build.stdout
    path = served.workdir / SERVING
    assert (path.read_bytes(), path.stat().st_ino) == served.serving_before_failure
    assert not [p.name for p in served.workdir.iterdir() if serving.SCRATCH_MARK in p.name]


def test_builds_leave_no_scratch_relation(served):
    assert served.scratch_relations == []


def served_tables(db: Path) -> dict[str, list[tuple[str, str]]]:
    """schema.table -> [(column, type)] of every table and view in a DuckDB file."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql("select table_schema || '.' || table_name, column_name, data_type "
                       "from information_schema.columns order by table_name, ordinal_position"
                       ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, []).append((column, data_type))
    return tables


def email_like_values(db: Path) -> dict[str, int]:
    """schema.table.column -> how many of its values (as text) hold an email address."""
    found = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for table, columns in served_tables(db).items():
            for column, _ in columns:
                ((count,),) = con.execute(
                    f'select count(*) from {table} '
                    f'where regexp_matches(cast("{column}" as varchar), ?)', [EMAIL]
                ).fetchall()
                if count:
                    found[f"{table}.{column}"] = count
    return found


@pytest.fixture(scope="module")
def pii_pattern() -> re.Pattern:
    """The project's PII column-name pattern, rendered from its one home (macro
    pii_column_pattern) with plain Jinja: no dbt invocation needed."""
    macros = (REPO / "macros" / "inputs" / "pii_columns.sql").read_text()
    environment = jinja2.Environment(extensions=["jinja2.ext.do"])
    environment.globals["return"] = lambda value: value
    return re.compile(environment.from_string(macros + "{{ pii_column_pattern() }}")
                      .render().strip())


def public_models(workdir: Path) -> set[str]:
    nodes = json.loads((workdir / "target" / "manifest.json").read_text())["nodes"].values()
    return {f"{n['schema']}.{n['alias']}" for n in nodes
            if n["resource_type"] == "model" and n["access"] == "public"}


@pytest.mark.parametrize("version", ["run 3", "run 2 pseudonymised"])
def test_the_serving_file_holds_the_public_marts_and_nothing_personal(served, pii_pattern,
                                                                      version):
    db = served.workdir / SERVING if version == "run 3" else served.pseudonymised
    tables = served_tables(db)
    assert set(tables) == public_models(served.workdir)
    assert not [t for t in tables if re.search(r"\.(raw_|base_|stg_|int_)|reject", t)]
    assert not [f"{t}.{c}" for t, columns in tables.items() for c, _ in columns
                if c.lower() != "has_email" and pii_pattern.fullmatch(c.lower())]
    assert email_like_values(db) == {}


def test_the_scans_find_what_the_build_file_holds(served, pii_pattern):
    # The same scans on the engineers' build file: it has raw inputs, emails and PII columns.
    build = served.workdir / "custseg.duckdb"
    tables = served_tables(build)
    assert [t for t in tables if t.endswith(".stg_rejects")]
    assert [c for columns in tables.values() for c, _ in columns if pii_pattern.fullmatch(c)]
    assert email_like_values(build)


def customer_id_values(db: Path) -> dict[str, list[str]]:
    """schema.table.column -> values of every customer id column (by name)."""
    found = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for table, columns in served_tables(db).items():
            for column, _ in columns:
                if re.fullmatch(r"(.*_)?customer_id", column):
                    found[f"{table}.{column}"] = [
                        v for (v,) in con.sql(f'select "{column}" from {table}').fetchall()]
    return found


def test_pseudonymised_ids_everywhere_and_membership_history_untouched(served):
    ids = customer_id_values(served.pseudonymised)
    assert ids and all(values for values in ids.values())
    assert all(HEX_ID.fullmatch(v) for values in ids.values() for v in values)
    with duckdb.connect(str(served.workdir / "custseg.duckdb"), read_only=True) as con:
        real = [v for (v,) in con.sql(
            "select customer_id from main_marts.dim_customer_segments").fetchall()]
    hashed = {hashlib.sha256((SALT + v).encode()).hexdigest() for v in real}
    assert set(ids["main_marts.dim_customer_segments.customer_id"]) == hashed
    # The build file's snapshot and transitions: the same rows before and after the build
    # with the setting on (same input, so no customer changed segment), real ids throughout.
    assert served.membership["pseudonymised"] == served.membership["plain"]
    snapshot_ids = {row[0] for row in served.membership["plain"][0]}
    assert not [v for v in snapshot_ids if HEX_ID.fullmatch(v)]


def test_the_parquet_copy_holds_the_same_marts(served):
    files = sorted(served.parquet_dir.glob("*.parquet"))
    tables = served_tables(served.pseudonymised)
    assert {f.stem for f in files} == {t.split(".")[1] for t in tables}
    with duckdb.connect(str(served.pseudonymised), read_only=True) as con:
        for path in files:
            (table,) = [t for t in tables if t.endswith("." + path.stem)]
            for difference in (f"from {table} except all from read_parquet(?)",
                               f"from read_parquet(?) except all from {table}"):
                assert con.execute(difference, [str(path)]).fetchall() == [], path.stem
    assert not [p for p in served.parquet_dir.parent.iterdir() if serving.SCRATCH_MARK in p.name]


def test_serving_paths(tmp_path):
    assert serving.serving_path("/data/custseg.duckdb", {}) == Path(
        "/data/custseg_serving.duckdb")
    assert serving.serving_path("dev.db", {}) == Path("dev_serving.db")
    assert serving.serving_path("x.duckdb", {serving.SERVING_PATH_ENV: "/srv/bi.duckdb"}) == Path(
        "/srv/bi.duckdb")
    assert serving.default_serving_path({}) == Path("custseg_serving.duckdb")
    assert serving.default_serving_path({"DUCKDB_PATH": "/b/prod.duckdb"}) == Path(
        "/b/prod_serving.duckdb")
    assert serving.parquet_dir({}) is None
    assert serving.parquet_dir({serving.PARQUET_DIR_ENV: "/lake"}) == Path("/lake")


def test_move_into_place_replaces_files_and_mirrors_directories(tmp_path):
    final = tmp_path / "nested" / "serving.duckdb"
    stale = serving.scratch_path(final, "old")
    stale.write_text("interrupted")
    scratch = serving.scratch_path(final, "new")
    assert not stale.exists() and scratch.parent == final.parent
    scratch.write_text("v2")
    final.write_text("v1")
    with final.open() as open_reader:
        serving.move_into_place(scratch, final)
        assert open_reader.read() == "v1"  # an open reader keeps its version
    assert final.read_text() == "v2" and not scratch.exists()

    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "gone.parquet").write_text("a mart since removed")
    (lake / "README").write_text("not ours")
    directory = serving.scratch_path(lake, "run", directory=True)
    (directory / "kept.parquet").write_text("new")
    serving.move_into_place(directory, lake)
    assert sorted(p.name for p in lake.iterdir()) == ["README", "kept.parquet"]
    assert not directory.exists()
