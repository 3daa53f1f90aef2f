"""Run test_spark's commands on the Spark target in one process: one JVM and one SparkSession
for all of them, as an orchestrator would keep them, instead of one per command.

    python spark_session.py PLAN.json

PLAN.json is a list of steps run in order, each {"env": {NAME: value or null (unset)},
"log": path, "dbt": [args] | "segment": [args] | "copy": [source, destination] | "sql":
[statements], "exclude": [selectors]}: `dbt` is a dbt command (dbtRunner), `segment` the
project's `segment` command (custseg.build.main), `copy` a copy of a directory tree, `sql` Spark
SQL statements on the session the commands before it opened (e.g. a loader's tables for var
raw_schema). `exclude` adds `--exclude SELECTOR...` to every `dbt build` the step runs (the
`segment` command refuses selection flags on its own command line, as it builds the whole
project; a test plan may still leave nodes out, e.g. data tests whose SQL is dbt's own).
`$NAME` in an env value is this process's environment variable NAME (a secret need not be
written down).
A command's console output goes to its log; its exit code (0 success) is the log's last line,
`exit code N`. A failed command does not stop the plan.
dbt-spark opens the session with the profile's settings at each statement (builder.getOrCreate),
so a setting that changes between steps (CUSTSEG_ID_SALT, passed as conf custseg.id_salt)
applies to the running session.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def excluding(selectors: list[str]) -> Iterator[None]:
    """Every `dbt build` started through dbtRunner meanwhile also gets `--exclude selectors`."""
    from dbt.cli.main import dbtRunner

    invoke = dbtRunner.invoke

    def invoke_excluding(self: dbtRunner, args: list[str], **kwargs: object) -> object:
        if selectors and list(args[:1]) == ["build"]:
            args = [*args, "--exclude", *selectors]
        return invoke(self, args, **kwargs)

    dbtRunner.invoke = invoke_excluding
    try:
        yield
    finally:
        dbtRunner.invoke = invoke


def run_step(step: dict) -> int:
    """One step of the plan; its exit code."""
    with excluding(step.get("exclude", [])):
        return _run_step(step)


def _run_step(step: dict) -> int:
    for name, value in step.get("env", {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = os.path.expandvars(value)
    if "copy" in step:
        source, destination = step["copy"]
        shutil.copytree(source, destination, dirs_exist_ok=True)
        return 0
    if "sql" in step:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        for statement in step["sql"]:
            spark.sql(statement)
        return 0
    if "segment" in step:
        from custseg.build import main

        try:
            return main(step["segment"])
        except SystemExit as stop:
            return stop.code if isinstance(stop.code, int) else 1
    from dbt.cli.main import dbtRunner

    outcome = dbtRunner().invoke(step["dbt"])
    if outcome.exception is not None:
        print(outcome.exception)
    return 0 if outcome.success else (1 if outcome.exception is None else 2)


def main(plan_path: str) -> int:
    for step in json.loads(Path(plan_path).read_text()):
        log = Path(step["log"])
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as output:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                code = run_step(step)
            output.write(f"\nexit code {code}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
