"""Unit tests of the settings check (custseg.settings): declared vars, misspelt ones."""

from conftest import REPO
from custseg.settings import declared_vars, unknown_var_warnings


def test_every_var_the_project_reads_is_declared_in_dbt_project_yml():
    """The declaration is the one list of settings: a var read in SQL with a default of its
    own, but not declared, would be reported as unknown when a user sets it."""
    import re

    declared = declared_vars(REPO)
    read = set()
    for folder in ("models", "macros", "analyses", "snapshots", "tests"):
        for path in (REPO / folder).rglob("*.sql"):
            read |= set(re.findall(r"""var\(\s*['"]([a-z_]+)['"]""", path.read_text()))
    retired = {"log_transform_features", "impute_with_upper_bound"}  # checked to say they went
    assert read - retired <= set(declared), sorted(read - retired - set(declared))
    assert {"n_segments", "scaler", "segmentation_features", "histogram_bins"} <= set(declared)


def test_a_misspelt_var_is_named_with_the_closest_setting():
    declared = declared_vars(REPO)
    assert unknown_var_warnings({"n_segment": 3, "scaler": "robust"}, declared) == [
        "var n_segment is not a setting of this project and was ignored: "
        "did you mean n_segments?"]
    assert unknown_var_warnings({"zzz_unrelated": 1}, declared) == [
        "var zzz_unrelated is not a setting of this project and was ignored"]
    assert unknown_var_warnings({}, declared) == []


def test_segment_settings_prints_every_var_and_names_a_misspelt_one(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    segment = Path(sys.executable).with_name("segment")
    result = subprocess.run(
        [str(segment), "settings", "--vars", "{n_segment: 3, scaler: robust}",
         "--db", str(tmp_path / "none.duckdb")],
        cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "DBT_PROJECT_DIR": str(REPO)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split() == ["scaler", '"robust"', "(--vars)"] for line in lines)
    assert any(line.split() == ["k_max", "8", "(default)"] for line in lines)
    assert ("  var n_segment is not a setting of this project and was ignored: did you mean "
            "n_segments?") in lines
    assert "build once to list the usable feature columns" in result.stdout


def test_usable_features_list_the_extra_text_columns_as_categorical(tmp_path):
    """segment settings lists the numeric features of dim_features, then every text or boolean
    customer attribute staging kept - the contract's and the extra text columns of the input
    (here education) - as categorical, with the last fit's status."""
    import duckdb

    from custseg.settings import feature_lines

    database = tmp_path / "custseg.duckdb"
    with duckdb.connect(str(database)) as con:
        for schema in ("main_marts", "main_staging", "main_intermediate"):
            con.execute(f"create schema {schema}")
        con.execute("create table main_marts.dim_features as select 'annual_income' as feature, "
                    "1 as feature_order, 'int_customer_attributes_banded' as source_model, "
                    "false as is_default_feature, 'used' as fit_status")
        con.execute("create table main_staging.base (customer_id varchar, age integer, "
                    "gender varchar, annual_income double, loyalty_points double, "
                    "education varchar, has_email boolean, invalid_attributes varchar)")
        con.execute("create view main_staging.stg_customers as select * from main_staging.base")
        con.execute("create table main_intermediate.int_segment_fit_features as "
                    "select * from (values ('annual_income', true, null), "
                    "('education', true, null), ('gender', false, 'constant')) "
                    "t(feature, is_used, excluded_reason)")
    assert feature_lines(database) == [
        "annual_income  from int_customer_attributes_banded; last fit: used",
        "gender  categorical, from stg_customers; last fit: excluded: constant",
        "education  categorical, from stg_customers; last fit: used",
        "has_email  categorical, from stg_customers",
    ]
