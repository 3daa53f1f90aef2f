"""Benchmark the project's `dbt build` against a pandas notebook pipeline and two DuckDB floors.

For one data size: generate the Parquet inputs (custseg-generate), then run, in rounds,
(a) `dbt build` of the whole project on a fresh DuckDB file, (a') the incremental `dbt build`
after a delivery of 1% new transactions (a full build of the base first, untimed), (a'') the
same `dbt build` of 500 generated customers (the fixed cost of running every node),
(b) bench/pandas_pipeline.py, (c) bench/duckdb_floor.py (the same-work floor),
(d) bench/bare_floor.py (the bare floor: one aggregate, one fit), and with --spark
(e) `segment build --target spark` on a local SparkSession, each as its own child process.
Wall time comes from time.perf_counter around the child; peak RSS is the larger of os.wait4's
ru_maxrss (the largest single process of the child and its descendants) and the summed RSS of
its process tree, sampled every 0.5 s (Spark: the Python driver plus the JVM). Writes
<out>/<label>.json (every run, machine info, load averages, dbt's slowest nodes, a check that
the variants agree) and <label>.md (the table and the ratios dbt build / same-work floor,
dbt build / bare floor and incremental build / full build, and the fixed cost against the
incremental budget), prints the table.

    python bench/run_benchmark.py --customers 1000000 --transactions 20000000 --runs 3 \\
        --out bench/results/
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
BIN = Path(sys.executable).parent
VARIANTS = ("dbt", "baseline", "incremental", "fixed", "pandas", "floor", "bare", "spark")
# The fixed-cost variant's inputs: generated as the measured inputs are, next to no data.
FIXED_CUSTOMERS, FIXED_TRANSACTIONS = 500, 10_000
LABELS = {
    "dbt": "dbt build (all models + tests)",
    "baseline": "dbt build of --baseline (another checkout)",
    "incremental": "dbt incremental build (+1% transactions)",
    "fixed": f"dbt build of {FIXED_CUSTOMERS} customers (fixed cost)",
    "pandas": "pandas + scikit-learn script",
    "floor": "same-work floor: DuckDB query + one K-means fit",
    "bare": "bare floor: one DuckDB aggregate + one K-means fit",
    "spark": "Spark local: segment build --target spark",
}
# The bench script of each script variant (run_script).
SCRIPTS = {"pandas": "pandas_pipeline", "floor": "duckdb_floor", "bare": "bare_floor"}
# Targets of the full build's median wall time, as multiples of a floor's.
TARGETS = {"floor": ("same-work floor", 2.0), "bare": ("bare floor", 6.0)}
# Target of the incremental build's median wall time, as a multiple of the full build's.
INCREMENTAL_TARGET = 0.2
# The incremental variant's delivery: 1% of the transactions (a deterministic sample), each with
# a new id and one day later; it sorts after the base file, so only it is validated.
BASE_FILE, NEW_FILE = "0-base.parquet", "1-new.parquet"
SAMPLE_PERCENT = 1
sys.path.insert(0, str(BENCH))
from pandas_pipeline import NUMERIC_FEATURES as FEATURES  # noqa: E402  (the feature catalogue)

GIB = 1024**3
PAGE = os.sysconf("SC_PAGE_SIZE")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# A node's result line in dbt.log: "12 of 93 OK created sql table model custseg.x ... [OK in 3.2s]"
LOG_NODE = re.compile(r"\d+ of \d+ (OK created \w+ \w+ model|OK snapshotted|OK loaded seed file"
                      r"|PASS|WARN \d+) (\S+) .*\[\w+ in ([\d.]+)s\]")
LOG_KIND = {"PASS": "test", "WARN": "test", "OK snapshotted": "snapshot",
            "OK loaded seed file": "seed"}
SLOW_TEST_SECONDS = 2.0


@dataclass
class Measured:
    """One child process: how long it took, how much memory it held, how it ended."""

    wall_s: float
    peak_rss_gb: float
    returncode: int
    status: str  # ok | failed | out_of_memory | timeout
    load_before: list[float]
    load_after: list[float]
    user_s: float | None
    system_s: float | None
    stderr_tail: str = ""
    details: dict = field(default_factory=dict)
    peak_tree_rss_gb: float | None = None  # summed RSS of the process tree, sampled


def tree_rss_bytes(session: int) -> int:
    """Summed RSS of the processes in a session (the child, started in its own, and every
    descendant: dbt, or Spark's Python driver and JVM)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # from field 3 (state) on
        if int(fields[3]) == session:  # field 6: session id
            total += int(fields[21]) * PAGE  # field 24: resident pages
    return total


def meminfo() -> dict[str, int]:
    """/proc/meminfo in bytes (Linux)."""
    values = {}
    with open("/proc/meminfo") as handle:
        for line in handle:
            name, rest = line.split(":", 1)
            values[name] = int(rest.split()[0]) * 1024
    return values


def machine_info() -> dict:
    """Cores, memory, CPU, OS, package versions and the project commit."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    versions = {}
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "pandas", "numpy", "scikit-learn",
                    "pyarrow"):
        versions[package] = importlib.metadata.version(package)
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(meminfo()["MemTotal"] / GIB, 1), "os": platform.platform(),
        "python": platform.python_version(), "versions": versions, "commit": commit,
        "env": {name: os.environ.get(name) for name in
                ("DUCKDB_THREADS", "DUCKDB_MEMORY_LIMIT", "DBT_THREADS", "OMP_NUM_THREADS")},
    }


def measure(command: list[str], *, env: dict[str, str], cwd: Path, log_dir: Path,
            memory_cap_gb: float | None = None, timeout_s: float | None = None) -> Measured:
    """Run one child to completion; wall time, peak RSS (KiB -> GB) and exit status.

    memory_cap_gb sets RLIMIT_AS in the child: a run that would take the machine down fails
    with MemoryError instead (address space is larger than RSS, so the cap bites early).
    """
    log_dir.mkdir(parents=True, exist_ok=True)

    def limit() -> None:
        if memory_cap_gb:
            cap = int(memory_cap_gb * GIB)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    load_before = list(os.getloadavg())
    with open(log_dir / "stdout.txt", "wb") as out, open(log_dir / "stderr.txt", "wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err,
                                 preexec_fn=limit, start_new_session=True)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            os.killpg(child.pid, signal.SIGKILL)

        timer = threading.Timer(timeout_s, kill) if timeout_s else None
        if timer:
            timer.start()
        done, tree_peak = threading.Event(), [0]

        def sample() -> None:
            while not done.wait(0.5):
                tree_peak[0] = max(tree_peak[0], tree_rss_bytes(child.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, wait_status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        if timer:
            timer.cancel()
    child.returncode = os.waitstatus_to_exitcode(wait_status)
    stderr = (log_dir / "stderr.txt").read_text(errors="replace")
    stdout = (log_dir / "stdout.txt").read_text(errors="replace")
    if child.returncode == 0:
        status = "ok"
    elif timed_out.is_set():
        status = "timeout"
    elif child.returncode == -signal.SIGKILL or "MemoryError" in stderr or (
            "Out of Memory" in stdout + stderr):
        status = "out_of_memory"  # SIGKILL without a timeout: the kernel's OOM killer
    else:
        status = "failed"
    return Measured(
        wall_s=round(wall, 3),
        peak_rss_gb=round(max(usage.ru_maxrss * 1024, tree_peak[0]) / GIB, 3),
        peak_tree_rss_gb=round(tree_peak[0] / GIB, 3),
        returncode=child.returncode, status=status, load_before=load_before,
        load_after=list(os.getloadavg()), user_s=round(usage.ru_utime, 2),
        system_s=round(usage.ru_stime, 2),
        stderr_tail="" if status == "ok" else (stdout[-1500:] + "\n" + stderr[-1500:]))


def last_json_line(path: Path) -> dict:
    """The summary a bench script prints as its last stdout line."""
    lines = [line for line in path.read_text().splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def dbt_node_timings(target: Path) -> dict:
    """Per-node execution times from dbt's run_results.json, slowest first."""
    path = target / "run_results.json"
    if not path.exists():
        return {}
    results = json.loads(path.read_text())
    nodes = sorted(
        ({"node": row["unique_id"], "status": row["status"],
          "seconds": round(row["execution_time"], 3)} for row in results["results"]),
        key=lambda row: -row["seconds"])
    by_type: dict[str, float] = {}
    for row in nodes:
        kind = row["node"].split(".", 1)[0]
        by_type[kind] = round(by_type.get(kind, 0.0) + row["seconds"], 3)
    return {"elapsed_s": round(results.get("elapsed_time", 0.0), 3), "seconds_by_type": by_type,
            "nodes": nodes, "failed": [row["node"] for row in nodes
                                       if row["status"] not in ("success", "pass", "warn")]}


def dbt_env(work: Path, database: Path, project: Path = REPO) -> dict[str, str]:
    """The environment of a dbt run of project into database, its target and logs in work/."""
    return {**os.environ, "DUCKDB_PATH": str(database),
            "DBT_TARGET_PATH": str(work / "target"), "DBT_LOG_PATH": str(work / "logs"),
            "DBT_PROFILES_DIR": str(project), "PYTHONPATH": str(project / "src")}


def dbt_vars(data_dir: Path, overrides: dict) -> str:
    """--vars of a build of the inputs in data_dir."""
    return json.dumps({"raw_data_dir": str(data_dir), **overrides})


def run_dbt(data_dir: Path, work: Path, overrides: dict, args: argparse.Namespace,
            project: Path = REPO, database: Path | None = None) -> Measured:
    """(a) the project's full `dbt build` of the inputs in data_dir into a fresh DuckDB file
    under work/ (target, logs, stdout and stderr there too); with project, the same build of
    another checkout (its own Python package first on the path). With database, build into
    that DuckDB file instead, as it is: a second build into an existing file is incremental."""
    database = database or work / "custseg.duckdb"
    env = dbt_env(work, database, project)
    variables = dbt_vars(data_dir, overrides)
    measured = measure([str(BIN / "dbt"), "build", "--vars", variables], env=env, cwd=project,
                       log_dir=work, timeout_s=args.timeout)
    measured.details = dbt_node_timings(work / "target")
    if database.exists():
        measured.details["duckdb_file_gb"] = round(database.stat().st_size / GIB, 3)
    if measured.status == "failed" and measured.details.get("failed"):
        measured.details["note"] = "dbt build finished with failing nodes"
    return measured


def sql_string(value: object) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def prepare_incremental(data_dir: Path, work: Path) -> dict:
    """The inputs of the incremental variant, made once per benchmark (untimed).

    work/incremental_data/ holds a symlink to every input in data_dir but transactions and
    transactions/0-base.parquet, a symlink to transactions.parquet. The delivery,
    work/incremental_delivery/1-new.parquet, is the SAMPLE_PERCENT% of the transactions whose
    id hashes to 0 mod 100, each with a new id ('N' || id: no existing id starts with N) and
    transaction_ts one day later, in the column's own type (text that is no timestamp is kept
    as it is). Each round copies it into transactions/ (run_incremental).
    """
    data_dir = data_dir.resolve()
    source = data_dir / "transactions.parquet"
    if not source.exists():
        raise SystemExit(f"the incremental variant needs {source} (or --skip incremental)")
    inputs = (work / "incremental_data").resolve()
    delivery = inputs.parent / "incremental_delivery" / NEW_FILE
    (inputs / "transactions").mkdir(parents=True)
    delivery.parent.mkdir()
    for entry in sorted(data_dir.iterdir()):
        if entry.name.split(".")[0] != "transactions":
            (inputs / entry.name).symlink_to(entry)
    (inputs / "transactions" / BASE_FILE).symlink_to(source)
    start = time.perf_counter()
    read = f"read_parquet({sql_string(source)})"
    with duckdb.connect() as con:
        def column_types(relation: str) -> dict[str, str]:
            query = f"select column_name, column_type from (describe from {relation})"
            return dict(con.execute(query).fetchall())

        types = column_types(read)
        new_id = ("'N' || transaction_id" if types["transaction_id"] == "VARCHAR" else
                  f"transaction_id + (select max(transaction_id) from {read}) + 1")
        ts_type = types["transaction_ts"]
        shifted = ts_type == "VARCHAR" or ts_type.startswith(("TIMESTAMP", "DATE"))
        new_ts = (f"coalesce(cast(try_cast(transaction_ts as timestamp) + interval 1 day "
                  f"as {ts_type}), transaction_ts)" if shifted else "transaction_ts")
        con.execute(f"copy (select * replace ({new_id} as transaction_id, {new_ts} as "
                    f"transaction_ts) from {read} where hash(transaction_id) % 100 "
                    f"< {SAMPLE_PERCENT}) to {sql_string(delivery)} (format parquet)")
        delivered = f"read_parquet({sql_string(delivery)})"
        if column_types(delivered) != types:
            raise SystemExit(f"{delivery}: other column types than {source}: "
                             f"{column_types(delivered)} vs {types}")
        base_rows = con.execute(f"select count(*) from {read}").fetchone()[0]
        new_rows = con.execute(f"select count(*) from {delivered}").fetchone()[0]
    return {"data_dir": str(inputs), "delivery": str(delivery), "base_rows": base_rows,
            "new_rows": new_rows, "share_of_base": round(new_rows / base_rows, 5)
            if base_rows else None, "transaction_ts_type": ts_type,
            "transaction_ts_shifted": shifted, "prepare_s": round(time.perf_counter() - start, 2)}


def incremental_check(work: Path, database: Path) -> dict:
    """Did the build in work/ validate only the delivery? The build log's line if
    base_transactions validated every row again (else None); the loads (distinct loaded_at)
    base_transactions holds, and its rows from the delivery."""
    log = work / "logs" / "dbt.log"
    text = ANSI.sub("", log.read_text(errors="replace")) if log.exists() else ""
    check: dict = {"revalidated_every_row": next(
        (line.strip() for line in text.splitlines() if "validating every row" in line), None)}
    if database.exists():
        with duckdb.connect(str(database), read_only=True) as con:
            schema = con.execute("select table_schema from information_schema.tables "
                                 "where table_name = 'base_transactions'").fetchone()
            if schema:
                loads, rows = con.execute(
                    "select count(distinct loaded_at), count(*) filter (where source_file like "
                    f"{sql_string('%' + NEW_FILE)}) from {schema[0]}.base_transactions").fetchone()
                check.update(base_transactions_loads=loads, base_transactions_new_file_rows=rows)
    return check


def run_incremental(inputs: Path, delivery: Path, work: Path, overrides: dict,
                    args: argparse.Namespace) -> Measured:
    """(a') the full `dbt build` of inputs/ (transactions/ holding only the base file) into a
    fresh DuckDB file under work/ (untimed for the ratio; its wall time goes to the details as
    setup_full_build_s, its logs to work/full_build/), then the delivery copied into
    transactions/ and `dbt build` again into the same file: the measured run, measured as
    run_dbt measures (a). Like a daily build in the same project, it starts from the full
    build's parsed project (target/partial_parse.msgpack: dbt parses only what changed, here
    nothing). The delivery is removed from transactions/ again afterwards."""
    database, new_file = work / "custseg.duckdb", inputs / "transactions" / NEW_FILE
    new_file.unlink(missing_ok=True)  # left by an interrupted earlier run
    full = run_dbt(inputs, work / "full_build", overrides, args, database=database)
    setup = {"setup_full_build_s": full.wall_s, "setup_full_build_status": full.status}
    if full.status != "ok":
        full.details = {**setup, "failed": full.details.get("failed", []),
                        "note": "the full build before the incremental one did not succeed"}
        return full
    parsed = work / "full_build" / "target" / "partial_parse.msgpack"
    if parsed.exists():
        (work / "target").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(parsed, work / "target" / parsed.name)
    try:
        shutil.copyfile(delivery, new_file)
        measured = run_dbt(inputs, work, overrides, args, database=database)
    finally:
        new_file.unlink(missing_ok=True)
    measured.details.update(setup, **incremental_check(work, database))
    return measured


def prepare_fixed(work: Path) -> Path:
    """The inputs of the fixed-cost variant, made once per benchmark (untimed):
    FIXED_CUSTOMERS customers and FIXED_TRANSACTIONS transactions in work/fixed_data/,
    generated as the measured inputs are (custseg-generate, Parquet)."""
    data_dir = work / "fixed_data"
    command = [str(BIN / "custseg-generate"), "--out", str(data_dir), "--customers",
               str(FIXED_CUSTOMERS), "--transactions", str(FIXED_TRANSACTIONS), "--format",
               "parquet"]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return data_dir


def run_fixed(data_dir: Path, work: Path, overrides: dict,
              args: argparse.Namespace) -> Measured:
    """(a'') `dbt parse` of the fixed-cost inputs (untimed: a daily build finds the project
    parsed, as (a') does), then their `dbt build` into a fresh DuckDB file, measured as (a)
    is. The same nodes run as in (a), on 500 customers: the least any build of this project
    costs, however little data it touches."""
    parse = subprocess.run([str(BIN / "dbt"), "parse", "--vars", dbt_vars(data_dir, overrides)],
                           env=dbt_env(work, work / "custseg.duckdb"), cwd=REPO,
                           capture_output=True, text=True, timeout=args.timeout)
    if parse.returncode != 0:
        raise SystemExit(f"dbt parse of the fixed-cost inputs failed:\n{parse.stdout[-2000:]}")
    return run_dbt(data_dir, work, overrides, args)


def run_script(name: str, data_dir: Path, work: Path, overrides: dict,
               args: argparse.Namespace) -> Measured:
    """(b) the pandas pipeline, (c) the same-work floor or (d) the bare floor, writing
    work/result.parquet."""
    command = [sys.executable, str(BENCH / f"{name}.py"), "--data", str(data_dir),
               "--out", str(work / "result.parquet"), "--vars", json.dumps(overrides)]
    if name in ("duckdb_floor", "bare_floor"):
        command += ["--k", str(args.floor_k)]
    cap = args.pandas_memory_cap_gb if name == "pandas_pipeline" else None
    measured = measure(command, env=dict(os.environ), cwd=REPO, log_dir=work,
                       memory_cap_gb=cap, timeout_s=args.timeout)
    if measured.status == "ok":
        measured.details = last_json_line(work / "stdout.txt")
    if cap:
        measured.details["memory_cap_gb"] = cap
    return measured


def log_node_timings(log: Path) -> dict:
    """Per-node times from dbt.log, slowest first: `segment build --target spark` runs dbt
    twice (before and after the fit), and run_results.json keeps only the second."""
    if not log.exists():
        return {}
    nodes = []
    for line in ANSI.sub("", log.read_text(errors="replace")).splitlines():
        match = LOG_NODE.search(line)
        if match:
            kind = next((kind for start, kind in LOG_KIND.items() if match[1].startswith(start)),
                        "model")
            nodes.append({"node": f"{kind}.custseg.{match[2].split('.')[-1]}",
                          "status": "success", "seconds": float(match[3])})
    nodes.sort(key=lambda row: -row["seconds"])
    return {"nodes": nodes}


def run_spark(data_dir: Path, work: Path, overrides: dict, args: argparse.Namespace) -> Measured:
    """(e) `segment build --target spark`: dbt, the fit and dbt again on a local SparkSession
    with its warehouse (Parquet tables, Derby metastore) under work/."""
    env = {**os.environ, "SPARK_WAREHOUSE_DIR": str(work / "warehouse"),
           "SPARK_DRIVER_MEMORY": args.spark_driver_memory,
           "DBT_TARGET_PATH": str(work / "target"), "DBT_LOG_PATH": str(work / "logs"),
           "DBT_PROFILES_DIR": str(REPO), "DBT_PROJECT_DIR": str(REPO)}
    variables = json.dumps({"raw_data_dir": str(data_dir), **overrides})
    measured = measure([str(BIN / "segment"), "build", "--target", "spark", "--vars", variables],
                       env=env, cwd=work, log_dir=work, timeout_s=args.timeout)
    measured.details = log_node_timings(work / "logs" / "dbt.log")
    fit = re.search(r"segment build: fit run .* in ([\d.]+) s",
                    (work / "stdout.txt").read_text(errors="replace"))
    measured.details["fit_s"] = float(fit[1]) if fit else None
    measured.details["spark_driver_memory"] = args.spark_driver_memory
    return measured


def spark_agreement(dbt: pd.DataFrame, spark_work: Path) -> dict:
    """Spark's segment per customer against dbt's (DuckDB reads Spark's Parquet tables)."""
    # The marts' Spark database: <target schema>_marts (dbt_project.yml, one per layer).
    marts = spark_work / "warehouse" / f"{os.environ.get('SPARK_SCHEMA', 'custseg')}_marts.db"
    other = duckdb.sql("select customer_id, segment_id as segment_id_spark from read_parquet("
                       f"'{marts / 'dim_customer_segments'}/*.parquet')").df()
    merged = dbt.merge(other, on="customer_id")
    return {"customers": len(other), "matched_customers": len(merged),
            "same_segment_id": int((merged["segment_id"] == merged["segment_id_spark"]).sum())}


def bare_agreement(dbt: pd.DataFrame, result: Path) -> dict:
    """The bare floor's customers against dbt's: it segments every raw customer_id that has a
    transaction (untrimmed ids and orphans too), dbt every valid customer. Its segments come
    from other features, so they are not compared."""
    ids = set(pd.read_parquet(result, columns=["customer_id"])["customer_id"])
    valid = set(dbt["customer_id"])
    return {"customers": len(ids), "matched_customers": len(ids & valid),
            "only_bare": len(ids - valid), "only_dbt": len(valid - ids)}


def agreement(dbt_work: Path, pandas_work: Path | None, floor_work: Path | None,
              spark_work: Path | None = None, bare_work: Path | None = None) -> dict:
    """Do the variants compute the same thing? Feature mismatches and segment ARI vs dbt; for
    the bare floor (other features, raw customer ids) only which customers it segmented."""
    from sklearn.metrics import adjusted_rand_score

    with duckdb.connect(str(dbt_work / "custseg.duckdb"), read_only=True) as con:
        # Each table in its layer's schema (main_intermediate, main_marts), looked up.
        schemas = dict(con.sql(
            "select table_name, table_schema from information_schema.tables where table_name "
            "in ('int_customer_features', 'dim_customer_segments')").fetchall())
        columns = ", ".join(f"f.{name}" for name in FEATURES)
        dbt = con.sql(f"select f.customer_id, {columns}, s.segment_id "
                      f"from {schemas['int_customer_features']}.int_customer_features as f "
                      f"left join {schemas['dim_customer_segments']}.dim_customer_segments as s "
                      "using (customer_id) order by f.customer_id").df()
    report: dict = {"customers_dbt": len(dbt)}
    if pandas_work and (pandas_work / "result.parquet").exists():
        other = pd.read_parquet(pandas_work / "result.parquet")
        merged = dbt.merge(other, on="customer_id", suffixes=("", "_pandas"))
        mismatches = {}
        for name in FEATURES:
            a, b = merged[name].astype(float), merged[f"{name}_pandas"].astype(float)
            same = np.isclose(a, b, rtol=1e-9, atol=1e-6) | (a.isna() & b.isna())
            mismatches[name] = int((~same).sum())
        report["pandas"] = {
            "customers": len(other), "matched_customers": len(merged),
            "feature_mismatches": mismatches,
            "segment_ari_vs_dbt": round(float(adjusted_rand_score(
                merged["segment_id"].fillna(-1), merged["segment_id_pandas"])), 6)}
    if floor_work and (floor_work / "result.parquet").exists():
        other = pd.read_parquet(floor_work / "result.parquet")
        merged = dbt.merge(other, on="customer_id", suffixes=("", "_floor"))
        report["floor"] = {
            "customers": len(other), "matched_customers": len(merged),
            "segment_ari_vs_dbt": round(float(adjusted_rand_score(
                merged["segment_id"].fillna(-1), merged["segment_id_floor"])), 6)}
    if bare_work and (bare_work / "result.parquet").exists():
        report["bare"] = bare_agreement(dbt, bare_work / "result.parquet")
    if spark_work and (spark_work / "warehouse").exists():
        report["spark"] = spark_agreement(dbt, spark_work)
    return report


def generate(data_dir: Path, args: argparse.Namespace) -> Measured:
    command = [str(BIN / "custseg-generate"), "--out", str(data_dir), "--customers",
               str(args.customers), "--transactions", str(args.transactions), "--format",
               "parquet"]
    return measure(command, env=dict(os.environ), cwd=REPO, log_dir=data_dir.parent / "generate")


def summarise(runs: list[Measured]) -> dict:
    ok = [run for run in runs if run.status == "ok"]
    summary = {"runs": len(runs), "ok_runs": len(ok),
               "statuses": sorted({run.status for run in runs}),
               "peak_rss_gb": max(run.peak_rss_gb for run in runs) if runs else None}
    if ok:
        walls = [run.wall_s for run in ok]
        summary.update(median_wall_s=round(statistics.median(walls), 2),
                       min_wall_s=min(walls), max_wall_s=max(walls),
                       median_cpu_s=round(statistics.median(
                           run.user_s + run.system_s for run in ok), 1)
                       if all(run.user_s is not None for run in ok) else None,
                       peak_rss_gb=max(run.peak_rss_gb for run in ok))
        setups = [run.details.get("setup_full_build_s") for run in ok]
        if None not in setups:  # the incremental variant: its untimed full builds
            summary["median_setup_full_build_s"] = round(statistics.median(setups), 2)
    return summary


def slowest_nodes(runs: list[Measured], top: int) -> list[dict]:
    """Median execution time per dbt node over the runs, slowest first."""
    times: dict[str, list[float]] = {}
    for run in runs:
        for row in run.details.get("nodes", []):
            times.setdefault(row["node"], []).append(row["seconds"])
    medians = sorted(((node, statistics.median(values)) for node, values in times.items()),
                     key=lambda item: -item[1])
    return [{"node": node, "median_s": round(seconds, 2)} for node, seconds in medians[:top]]


def incremental_ratio(summary: dict) -> list[str]:
    """The line for the .md: incremental build / full dbt build (median wall and CPU s of the
    measured runs of both variants) against its target. Without the dbt variant, against the
    incremental variant's own untimed full builds (wall only)."""
    row, base = summary.get("incremental", {}), summary.get("dbt", {})
    if not row.get("median_wall_s"):
        return []
    source = ""
    if base.get("median_wall_s"):
        wall = row["median_wall_s"] / base["median_wall_s"]
        cpu = (f", CPU {row['median_cpu_s'] / base['median_cpu_s']:.2f}x"
               if base.get("median_cpu_s") and row.get("median_cpu_s") else "")
    elif row.get("median_setup_full_build_s"):
        wall, cpu = row["median_wall_s"] / row["median_setup_full_build_s"], ""
        source = " (dbt skipped: against the variant's own full builds before it)"
    else:
        return []
    verdict = "met" if wall <= INCREMENTAL_TARGET else "not met"
    return [f"- incremental build / full dbt build: wall {wall:.2f}x{cpu} "
            f"(target at most {INCREMENTAL_TARGET:g}x: {verdict}){source}"]


def fixed_cost(summary: dict) -> list[str]:
    """The line for the .md: the build of 500 customers (every node, next to no data)
    against the full build and the incremental build's budget (INCREMENTAL_TARGET x the full
    build's median wall time). A fixed cost above the budget means no incremental build of
    this project can meet it, however little data it touches."""
    fixed, base = summary.get("fixed", {}), summary.get("dbt", {})
    if not (fixed.get("median_wall_s") and base.get("median_wall_s")):
        return []
    budget = INCREMENTAL_TARGET * base["median_wall_s"]
    wall = fixed["median_wall_s"]
    verdict = "within" if wall <= budget else "above"
    return [f"- fixed cost (the build of {FIXED_CUSTOMERS} customers) / full dbt build: wall "
            f"{wall / base['median_wall_s']:.2f}x; its {wall} s "
            f"are {verdict} the incremental budget of {budget:.1f} s "
            f"({INCREMENTAL_TARGET:g}x the full build)"]


def floor_ratios(summary: dict) -> list[str]:
    """Lines for the .md: dbt build / each floor (median wall and CPU s) against its target,
    and incremental build / full dbt build against its own."""
    base, lines = summary.get("dbt", {}), []
    for variant, (name, target) in TARGETS.items():
        row = summary.get(variant, {})
        if not (base.get("median_wall_s") and row.get("median_wall_s")):
            continue
        wall = base["median_wall_s"] / row["median_wall_s"]
        cpu = (f", CPU {base['median_cpu_s'] / row['median_cpu_s']:.2f}x"
               if base.get("median_cpu_s") and row.get("median_cpu_s") else "")
        verdict = "met" if wall <= target else "not met"
        lines.append(f"- dbt build / {name}: wall {wall:.2f}x{cpu} "
                     f"(target at most {target:g}x: {verdict})")
    lines += incremental_ratio(summary) + fixed_cost(summary)
    return ["", *lines] if lines else []


def markdown(result: dict) -> str:
    """The report: machine, the variants table, dbt's slowest nodes and slow tests."""
    machine, summary = result["machine"], result["summary"]
    generated = ("generated earlier" if result["generate"].get("reused") else
                 f"generated in {result['generate']['wall_s']} s, "
                 f"{result['generate']['peak_rss_gb']} GB")
    lines = [
        f"## {result['customers']:,} customers / {result['transactions']:,} transactions",
        "",
        f"{machine['cores']} cores ({machine['cpu']}), {machine['memory_gb']} GiB RAM, "
        f"{result['started_at']}, commit {machine['commit']}, "
        f"rounds={result.get('completed_rounds', result['runs'])}/{result['runs']}; "
        f"inputs: {result['input_files_gb']} GB Parquet, {generated}; "
        f"load average before/after: {result['load_first']} / {result['load_last']}",
        *(["", f"Note: {result['note']}"] if result.get("note") else []),
        "",
        "| variant | ok runs | median wall s | min / max s | median CPU s | peak RSS GB "
        "| time vs dbt | memory vs dbt |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    base = summary.get("dbt", {})
    for variant in VARIANTS:
        row = summary.get(variant)
        if row is None:
            continue
        median = row.get("median_wall_s")
        time_ratio = (f"{median / base['median_wall_s']:.2f}x"
                      if median and base.get("median_wall_s") else "-")
        rss_ratio = (f"{row['peak_rss_gb'] / base['peak_rss_gb']:.2f}x"
                     if row.get("peak_rss_gb") and base.get("peak_rss_gb") else "-")
        lines.append(
            f"| {LABELS[variant]} | {row['ok_runs']}/{row['runs']} "
            f"({', '.join(row['statuses'])}) | {median if median is not None else '-'} | "
            f"{row.get('min_wall_s', '-')} / {row.get('max_wall_s', '-')} | "
            f"{row.get('median_cpu_s') or '-'} | {row['peak_rss_gb']} | {time_ratio} "
            f"| {rss_ratio} |")
    lines += floor_ratios(summary)
    delivery = result.get("incremental_data")
    if delivery and "incremental" in summary:
        setup = summary["incremental"].get("median_setup_full_build_s")
        lines += ["", f"Incremental: transactions/{NEW_FILE} with {delivery['new_rows']:,} new "
                  f"transactions ({delivery['share_of_base']:.2%} of the {delivery['base_rows']:,} "
                  f"in {BASE_FILE}), built after a full build of the base"
                  + (f" (median {setup} s, untimed)" if setup is not None else "")]
    if result.get("slowest_dbt_nodes"):
        lines += ["", "Slowest dbt nodes (median execution s, run_results.json):", "",
                  "| node | s |", "| --- | --- |"]
        lines += [f"| {row['node']} | {row['median_s']} |" for row in result["slowest_dbt_nodes"]]
    if result.get("slowest_incremental_nodes"):
        lines += ["", "Slowest nodes of the incremental build (median execution s, "
                  "run_results.json):", "", "| node | s |", "| --- | --- |"]
        lines += [f"| {row['node']} | {row['median_s']} |"
                  for row in result["slowest_incremental_nodes"]]
    if result.get("slowest_spark_nodes"):
        lines += ["", "Slowest nodes on Spark (median execution s, dbt.log):", "",
                  "| node | s |", "| --- | --- |"]
        lines += [f"| {row['node']} | {row['median_s']} |"
                  for row in result["slowest_spark_nodes"]]
    if result.get("slow_tests"):
        lines += ["", f"dbt tests over {SLOW_TEST_SECONDS} s: "
                  + ", ".join(f"{row['node']} ({row['median_s']} s)"
                              for row in result["slow_tests"])]
    if result.get("agreement"):
        lines += ["", f"Agreement with dbt (run 1): `{json.dumps(result['agreement'])}`"]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int)
    parser.add_argument("--transactions", type=int)
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="only rewrite the summary and .md of an earlier result JSON")
    parser.add_argument("--runs", type=int, default=3, help="rounds of every variant")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    parser.add_argument("--skip", default="",
                        help="comma-separated: dbt,incremental,fixed,pandas,floor,bare")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also build this checkout of the project (e.g. a `git worktree` of "
                             "main before a change), side by side in the same rounds")
    parser.add_argument("--spark", action="store_true",
                        help="also run (e) `segment build --target spark` (the [spark] extra "
                             "and Java); results go to <label>_spark.json/.md")
    parser.add_argument("--spark-driver-memory", default="8g",
                        help="SPARK_DRIVER_MEMORY of the Spark run (default 8g)")
    parser.add_argument("--data", type=Path, help="reuse generated Parquet inputs in this dir "
                        "(not deleted) instead of generating")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where data and DuckDB files go (default: a new dir in $TMPDIR)")
    parser.add_argument("--keep-data", action="store_true", help="keep the generated data")
    parser.add_argument("--vars", default="{}", help="var overrides for every variant (JSON)")
    parser.add_argument("--floor-k", type=int, default=6,
                        help="K of the single fit of both floors (same-work and bare)")
    parser.add_argument("--pandas-memory-cap-gb", type=float,
                        default=round(0.85 * meminfo()["MemTotal"] / GIB, 1),
                        help="RLIMIT_AS of the pandas child (default 85%% of RAM)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per child run")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip comparing features and segments against dbt's")
    args = parser.parse_args(argv)
    if not args.render and (args.customers is None or args.transactions is None):
        parser.error("--customers and --transactions are required")
    args.skip = {name.strip() for name in args.skip.split(",") if name.strip()}
    if not args.spark:
        args.skip.add("spark")
    unknown = args.skip - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants in --skip: {sorted(unknown)}")
    return args


def write_report(result: dict, runs: dict[str, list[Measured]], path: Path) -> str:
    """Summarise the runs so far into result; write the JSON and the .md; return the .md."""
    result["load_last"] = [round(x, 2) for x in os.getloadavg()]
    result["completed_rounds"] = min(len(items) for items in runs.values())
    result["summary"] = {name: summarise(items) for name, items in runs.items()}
    result["results"] = {name: [asdict(item) for item in items] for name, items in runs.items()}
    if "dbt" in runs:
        result["slowest_dbt_nodes"] = slowest_nodes(runs["dbt"], 12)
        result["slow_tests"] = [row for row in slowest_nodes(runs["dbt"], 10_000)
                                if row["node"].startswith("test.")
                                and row["median_s"] > SLOW_TEST_SECONDS]
    if "incremental" in runs:
        result["slowest_incremental_nodes"] = slowest_nodes(runs["incremental"], 12)
    if "spark" in runs:
        result["slowest_spark_nodes"] = slowest_nodes(runs["spark"], 12)
    for run_list in result["results"].values():  # keep the JSON readable: top nodes only
        for item in run_list:
            if "nodes" in item["details"]:
                item["details"]["nodes"] = item["details"]["nodes"][:25]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    path.with_suffix(".md").write_text(table)
    return table


def render(path: Path) -> None:
    """Recompute the summary of a result JSON from its runs; rewrite it and its .md."""
    result = json.loads(path.read_text())
    result["summary"] = {name: summarise([Measured(**item) for item in items])
                         for name, items in result["results"].items()}
    path.write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    path.with_suffix(".md").write_text(table)
    print(table)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        render(args.render)
        return 0
    overrides = json.loads(args.vars)
    variants = [name for name in VARIANTS if name not in args.skip
                and (name != "baseline" or args.baseline)]
    work = Path(tempfile.mkdtemp(prefix="custseg-bench-", dir=args.work_dir))
    label = f"c{args.customers}_t{args.transactions}" + ("_spark" if args.spark else "")
    print(f"work dir {work}; free disk {shutil.disk_usage(work).free / GIB:.0f} GiB",
          flush=True)
    result: dict = {"customers": args.customers, "transactions": args.transactions,
                    "runs": args.runs, "variants": variants, "vars": overrides,
                    "started_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    "machine": machine_info(), "load_first": [round(x, 2) for x in
                                                              os.getloadavg()]}
    try:
        data_dir = args.data or work / "data"
        if args.data:
            result["generate"] = {"wall_s": None, "peak_rss_gb": None, "reused": str(args.data)}
        else:
            generated = generate(data_dir, args)
            if generated.status != "ok":
                raise SystemExit(f"generation failed:\n{generated.stderr_tail}")
            result["generate"] = asdict(generated)
            print(f"generated in {generated.wall_s} s", flush=True)
        result["input_files_gb"] = round(sum(
            path.stat().st_size for path in data_dir.glob("*.parquet")) / GIB, 3)
        if "incremental" in variants:
            incremental = result["incremental_data"] = prepare_incremental(data_dir, work)
            print(f"incremental delivery: {incremental['new_rows']:,} new transactions, "
                  f"{incremental['share_of_base']:.2%} of {incremental['base_rows']:,} "
                  f"(made in {incremental['prepare_s']} s)", flush=True)
        if "fixed" in variants:
            fixed_data = prepare_fixed(work)
        runs: dict[str, list[Measured]] = {name: [] for name in variants}
        table = ""
        for round_number in range(1, args.runs + 1):
            dirs = {}
            for variant in variants:
                dirs[variant] = work / f"{variant}-{round_number}"
                dirs[variant].mkdir()
                if variant == "dbt":
                    measured = run_dbt(data_dir, dirs[variant], overrides, args)
                elif variant == "fixed":
                    measured = run_fixed(fixed_data, dirs[variant], overrides, args)
                elif variant == "baseline":
                    measured = run_dbt(data_dir, dirs[variant], overrides, args,
                                       project=args.baseline.resolve())
                elif variant == "incremental":
                    measured = run_incremental(Path(incremental["data_dir"]),
                                               Path(incremental["delivery"]), dirs[variant],
                                               overrides, args)
                elif variant == "spark":
                    measured = run_spark(data_dir, dirs[variant], overrides, args)
                else:
                    measured = run_script(SCRIPTS[variant], data_dir, dirs[variant],
                                          overrides, args)
                runs[variant].append(measured)
                setup = measured.details.get("setup_full_build_s")
                print(f"round {round_number} {variant}: {measured.status} {measured.wall_s} s "
                      f"{measured.peak_rss_gb} GB load {measured.load_after[0]:.2f}"
                      + (f" (after a full build of {setup} s)" if setup is not None else ""),
                      flush=True)
            if round_number == 1 and not args.no_verify and "dbt" in variants and (
                    runs["dbt"][0].status == "ok"):
                result["agreement"] = agreement(dirs["dbt"], dirs.get("pandas"),
                                                dirs.get("floor"), dirs.get("spark"),
                                                dirs.get("bare"))
            for path in dirs.values():  # DuckDB files, results and tables are large at scale
                for name in ("custseg.duckdb", "custseg.duckdb.wal", "custseg_serving.duckdb",
                             "result.parquet"):
                    (path / name).unlink(missing_ok=True)
                shutil.rmtree(path / "warehouse", ignore_errors=True)
            table = write_report(result, runs, args.out / f"{label}.json")  # after every round
    finally:
        if not args.keep_data and not args.data:
            shutil.rmtree(work / "data", ignore_errors=True)
        if not args.keep_data:  # the incremental variant's inputs, the fixed-cost inputs
            for name in ("incremental_data", "incremental_delivery", "fixed_data"):
                shutil.rmtree(work / name, ignore_errors=True)
    print(table)
    print(f"logs in {work}; results in {args.out / label}.json/.md")
    return 0 if all(run.status == "ok" for items in runs.values() for run in items) else 1


if __name__ == "__main__":
    sys.exit(main())
