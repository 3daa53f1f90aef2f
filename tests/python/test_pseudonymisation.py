"""Customer ids in the marts can be pseudonymised with a salted hash; the salt leaks nowhere."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from conftest import query, run_dbt
from custseg.duckdb_plugin import SALT_ENV

SALT = "pepper-7f3a9c1e-do-not-log"


@pytest.fixture(scope="module")
def pseudonymised_build(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("pseudonymised")
    os.environ[SALT_ENV] = SALT
    try:
        run_dbt(["build"], workdir, {"pseudonymize_customer_ids": True})
    finally:
        del os.environ[SALT_ENV]
    return workdir


def test_ids_are_salted_sha256_and_segments_unchanged(pseudonymised_build, sample_build):
    plain = dict(query(sample_build, "select customer_id, segment_id from dim_customer_segments"))
    hashed = dict(query(pseudonymised_build,
                        "select customer_id, segment_id from dim_customer_segments"))
    expected = {hashlib.sha256((SALT + customer_id).encode()).hexdigest(): segment
                for customer_id, segment in plain.items()}
    assert hashed == expected


def test_the_salt_is_nowhere_on_disk(pseudonymised_build):
    leaks = [path for path in pseudonymised_build.rglob("*")
             if path.is_file() and SALT.encode() in path.read_bytes()]
    assert leaks == []


def test_without_a_salt_the_build_says_what_to_set(tmp_path):
    assert SALT_ENV not in os.environ
    result = run_dbt(["build", "--select", "+dim_customer_segments"], tmp_path,
                     {"pseudonymize_customer_ids": True}, check=False)
    assert result.returncode != 0
    assert f"the environment variable {SALT_ENV} is not set" in result.stdout
