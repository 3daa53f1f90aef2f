"""`segment build`: the whole project on any target with one command.

On DuckDB (the default target) it is exactly `dbt build`: the fit is a dbt Python model. On a
Spark target it runs three steps in one process, sharing one SparkSession:

0. the fit's settings, checked (custseg.clustering.settings_error, as on-run-start does on
   DuckDB through its plugin): a bad one stops here, before any dbt step;
1. `dbt build --exclude segment_model+`: seeds, staging, features and their tests;
2. the fit (custseg.spark_fit): the same code as the DuckDB Python model - fit, or score with
   the latest fit under var refit - reading its inputs from the layers' databases the manifest
   names and appending a run to segment_model_history (in segment_model's database,
   custseg_intermediate by default);
3. `dbt build --select segment_model+`: the fit's view, scoring (assign_segment), the marts,
   the membership snapshot (after dim_customer_segments, which it reads) and their tests.

Every other argument goes to dbt unchanged (--target, --vars, --full-refresh, --profiles-dir).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FIT_NODE = "model.custseg.segment_model"
SELECTION_FLAGS = {"-s", "--select", "--exclude", "--selector", "-m", "--models"}


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="segment",
        description="Build the customer segments: `dbt build` on DuckDB; dbt, the fit and dbt "
                    "again on Spark. Other arguments go to dbt (--target, --vars, ...).")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build everything on the profile's target")
    build.add_argument("--full-refresh", action="store_true",
                       help="rebuild incremental models and start the run history afresh")
    settings = commands.add_parser(
        "settings", help="print every var with the value a build would use (and misspelt "
                         "ones), then the columns usable as segmentation features")
    settings.add_argument("--vars", default="{}", help="vars as for dbt (YAML or JSON)")
    settings.add_argument("--db", type=Path, default=None,
                          help="DuckDB file of the last build (default: DUCKDB_PATH or "
                               "custseg.duckdb)")
    args, dbt_args = parser.parse_known_args(argv)
    if args.command == "settings":
        return args, dbt_args
    selection = SELECTION_FLAGS.intersection(dbt_args)
    if selection:
        parser.error(f"segment build builds the whole project; for {sorted(selection)} use dbt")
    return args, dbt_args


def invoke(runner: Any, args: list[str]) -> Any:
    """Run one dbt command in-process; stop with its exit status when it fails."""
    result = runner.invoke(args)
    if not result.success:
        raise SystemExit(1 if result.exception is None else 2)
    return result


def build_on_spark(runner: Any, manifest: Any, dbt_args: list[str], full_refresh: bool) -> None:
    """The three steps on a Spark target (see the module docstring)."""
    from dbt_common.invocation import get_invocation_id
    from pyspark.sql import SparkSession

    from custseg.clustering import settings_error
    from custseg.spark_fit import FIT_INPUTS, fit_on_spark

    node = manifest.nodes[FIT_NODE]
    settings = _settings(node)
    # Spark has no dbt-duckdb plugin for the on-run-start check to call: the fit's settings
    # are checked here, before the first dbt step (the feature names by the fit, after it).
    problem = settings_error(settings, known=None, defaults=None)
    if problem:
        print(f"segment build: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(1)
    refresh = ["--full-refresh"] if full_refresh else []
    invoke(runner, ["build", "--exclude", "segment_model+", *refresh, *dbt_args])
    inputs = {name: _relation(manifest, name) for name in FIT_INPUTS}
    started = time.perf_counter()
    # dbt-spark's session method left its SparkSession in this process: the fit reuses it.
    spark = SparkSession.builder.getOrCreate()
    result = fit_on_spark(spark, inputs, node.schema, settings,
                          run_id=str(get_invocation_id()), full_refresh=full_refresh,
                          policy=_settings(node, "refit_policy"))
    if result.error:
        outcome = f"failed: {result.error}"
    elif result.run_type == "fit":
        outcome = f"K = {result.chosen_k}, {result.customers} customers; {result.reason}"
    else:
        outcome = (f"with fit {result.fit_run_number}, {result.customers} customers; "
                   f"{result.reason}")
    print(f"segment build: {result.run_type} run {result.run_number} on Spark ({outcome}) "
          f"in {time.perf_counter() - started:.1f} s", flush=True)
    invoke(runner, ["build", "--select", "segment_model+", *refresh, *dbt_args])


def _relation(manifest: Any, name: str) -> str:
    """database.table of one of the project's models on the target (its layer's schema)."""
    node = manifest.nodes[f"model.custseg.{name}"]
    return f"{node.schema}.{node.alias}"


def _settings(node: Any, key: str = "segmentation") -> dict[str, Any]:
    """Settings dbt rendered into segment_model's config from the dbt vars: `segmentation`
    (the fit's) or `refit_policy`."""
    import json

    return json.loads(node.config.get(key))


def print_settings(args: argparse.Namespace) -> int:
    """`segment settings`: the vars (custseg.settings) and the usable feature columns."""
    import os

    import yaml

    from custseg.settings import declared_vars, feature_lines, project_dir, settings_lines

    given = yaml.safe_load(args.vars) or {}
    print("Settings (dbt vars; dbt_project.yml declares them, --vars overrides):")
    print("\n".join("  " + line for line in settings_lines(declared_vars(project_dir()), given)))
    database = args.db or Path(os.environ.get("DUCKDB_PATH", "custseg.duckdb"))
    print("Columns usable as segmentation_features:")
    print("\n".join("  " + line for line in feature_lines(database)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args, dbt_args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "settings":
        return print_settings(args)
    from dbt.cli.main import dbtRunner

    parsed = invoke(dbtRunner(), ["parse", *dbt_args])
    manifest = parsed.result
    runner = dbtRunner(manifest=manifest)
    if manifest.metadata.adapter_type != "spark":
        invoke(runner, ["build", *(["--full-refresh"] if args.full_refresh else []), *dbt_args])
        return 0
    build_on_spark(runner, manifest, dbt_args, args.full_refresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
