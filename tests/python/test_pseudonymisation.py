"""Customer ids are pseudonymised at the door: publishing to the serving file hashes them with a
salt (var pseudonymize_customer_ids, macros/serving.sql); the build file keeps real ids; the salt
leaks nowhere. (test_serving builds with the setting on and checks the membership history.)"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from conftest import query, run_dbt
from custseg.duckdb_plugin import SALT_ENV

SALT = "pepper-7f3a9c1e-do-not-log"
SERVING = "custseg_serving.duckdb"


@pytest.fixture(scope="module")
def pseudonymised(sample_build, tmp_path_factory) -> Path:
    """A copy of the sample build, published again with pseudonymize_customer_ids (no rebuild:
    `dbt run-operation publish_serving` publishes the build file as it is)."""
    workdir = tmp_path_factory.mktemp("pseudonymised")
    shutil.copyfile(sample_build / "custseg.duckdb", workdir / "custseg.duckdb")
    os.environ[SALT_ENV] = SALT
    try:
        run_dbt(["run-operation", "publish_serving"], workdir, {"pseudonymize_customer_ids": True})
    finally:
        del os.environ[SALT_ENV]
    return workdir


def test_served_ids_are_salted_sha256_and_segments_unchanged(pseudonymised, sample_build):
    plain = dict(query(sample_build, "select customer_id, segment_id from dim_customer_segments"))
    hashed = dict(query(pseudonymised / SERVING,
                        "select customer_id, segment_id from dim_customer_segments"))
    expected = {hashlib.sha256((SALT + customer_id).encode()).hexdigest(): segment
                for customer_id, segment in plain.items()}
    assert hashed == expected
    # The build file keeps the real ids.
    assert dict(query(pseudonymised, "select customer_id, segment_id from dim_customer_segments")
                ) == plain


def test_the_salt_is_nowhere_on_disk(pseudonymised):
    files = [path for path in pseudonymised.rglob("*") if path.is_file()]
    assert pseudonymised / SERVING in files
    assert [path for path in files if SALT.encode() in path.read_bytes()] == []


def test_without_a_salt_the_build_stops_before_it_starts(tmp_path):
    assert SALT_ENV not in os.environ
    result = run_dbt(["build"], tmp_path, {"pseudonymize_customer_ids": True}, check=False)
    assert result.returncode != 0
    assert f"the environment variable {SALT_ENV} is not set" in result.stdout
    assert not (tmp_path / "custseg.duckdb").exists() or query(
        tmp_path, "select count(*) from information_schema.tables") == [(0,)]
    assert not (tmp_path / SERVING).exists()
