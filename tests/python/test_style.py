"""The code style the project promises: sqlfluff-clean SQL, ruff-clean Python."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO

BIN = Path(sys.executable).parent


def test_sql_is_sqlfluff_clean(sample_build):
    # The dbt templater compiles models, and some macros read the built database (e.g. to
    # find extra customer columns), so lint against the sample build.
    env = {**os.environ, "DUCKDB_PATH": str(sample_build / "custseg.duckdb"),
           "DBT_TARGET_PATH": str(sample_build / "lint_target"),
           "DBT_LOG_PATH": str(sample_build / "logs")}
    result = subprocess.run(
        [str(BIN / "sqlfluff"), "lint", "models", "tests", "analyses"],
        cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]


def test_generator_sql_is_sqlfluff_clean():
    # Plain DuckDB with `:name` placeholders, not dbt: the placeholder templater (its settings
    # are in src/custseg/generator_sql/.sqlfluff), the project's rules, no build needed.
    result = subprocess.run(
        [str(BIN / "sqlfluff"), "lint", "--templater", "placeholder",
         "src/custseg/generator_sql"],
        cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]


def test_python_is_ruff_clean():
    result = subprocess.run([str(BIN / "ruff"), "check", "src", "tests", "python_models"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
