"""Unit tests of the settings check (custseg.settings): declared vars, misspelt ones."""

import pytest

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


def render_macro(path: str, call: str) -> str:
    """A project macro rendered with plain Jinja (no dbt invocation): `call` after the file."""
    import re
    import types

    import jinja2

    environment = jinja2.Environment(extensions=["jinja2.ext.do"])
    environment.globals.update({"return": lambda value: value,
                                "modules": types.SimpleNamespace(re=re)})
    return environment.from_string((REPO / path).read_text() + call).render().strip()


NAMES = ["Spending Score", "Education", "CustomerID", " Total_Spend ($) ", "Größe", "a--b__c",
         "__Discount_Applied__", "MntWines", "X1", "kidhome"]


def test_names_in_vars_are_normalised_exactly_as_headers_are():
    """The fit normalises the names of feature-list vars in Python, the SQL in Jinja (macro
    normalise_column_name, which input headers go through): the same result for each."""
    from custseg.run import resolve_features
    from custseg.settings import normalise_name

    for name in NAMES:
        rendered = render_macro("macros/inputs/input_contract.sql",
                                f"{{{{ normalise_column_name({name!r}) }}}}")
        assert normalise_name(name) == rendered, name
    assert normalise_name("Spending Score") == "spending_score"
    assert normalise_name(" Total_Spend ($) ") == "total_spend"
    bounds = [{"feature": feature, "transform": transform, "impute_strategy": "median",
               "impute_value": 1.0, "lower_bound": 0.0, "upper_bound": 2.0,
               "is_default_feature": is_default, "source_model": source}
              for feature, transform, is_default, source in [
                  ("spending_score", "none", False, "stg_customers"),
                  ("monetary", "log1p", True, "int_transactions_aggregated_to_customers")]]
    settings, preparation, defaults = resolve_features(
        {"features": ["Spending Score", "Education"]}, bounds)
    assert settings["features"] == ["spending_score", "education"] and defaults is None
    assert {name: entry["transform"] for name, entry in preparation.items()} == {
        "spending_score": "none", "monetary": "log1p"}


@pytest.mark.parametrize(("settings", "known", "defaults", "error"), [
    ({"features": ["Spending Score"], "scaler": "robust"}, ["spending_score"], [], None),
    ({"features": None, "k_min": "2", "k_max": 6.0}, ["monetary"], ["monetary"], None),
    ({"features": None, "scaler": "minmax"}, None, None,
     "scaler must be one of ('standard', 'robust'), got 'minmax'"),
    ({"features": ["spending_scor"]}, ["annual_income", "spending_score"], [],
     "var segmentation_features names 'spending_scor', which is not among the features: "
     "annual_income, spending_score"),
    ({"features": None, "n_segments": 2.5}, ["monetary"], ["monetary"],
     "var n_segments must be a whole number, got 2.5"),
    ({"features": None, "k_min": 6, "k_max": 3}, None, ["monetary"],
     "need 2 <= k_min <= k_max, got 6..3"),
    ({"features": None}, ["monetary"], [], "segmentation_features is empty"),
    ({"features": ["monetary"], "n_init": 0}, None, None, "var n_init must be at least 1, got 0"),
])
def test_the_settings_check_applies_the_fits_rules(settings, known, defaults, error):
    import json

    import duckdb

    from custseg.clustering import settings_error
    from custseg.duckdb_plugin import register_functions

    found = settings_error(settings, known, defaults)
    assert found is None if error is None else error in found
    # the same, as the on-run-start hook calls it through the dbt-duckdb plugin
    with duckdb.connect() as con:
        register_functions(con)
        (checked,), = con.execute("select custseg_check_settings(?, ?, ?)", [
            json.dumps(settings), json.dumps(known), json.dumps(defaults)]).fetchall()
    assert json.loads(checked)["error"] == found


@pytest.mark.parametrize(("variables", "message"), [
    ({"scaler": "bogus", "n_segment": 3},
     "scaler must be one of ('standard', 'robust'), got 'bogus'"),
    ({"segmentation_features": ["monetary", "Loyalty Pts"]},
     "var segmentation_features names 'loyalty_pts', which is not among the features: "
     "recency_days, frequency, monetary"),
])
def test_bad_settings_stop_the_build_before_any_model(tmp_path, variables, message):
    """The settings check of on-run-start: one line, no model (seeds included) started, not
    labelled a compilation error; a misspelt var is named on the way."""
    import re

    from conftest import run_dbt

    result = run_dbt(["build"], tmp_path, variables, check=False)
    assert result.returncode != 0
    assert message in result.stdout
    assert not re.search(r"START (seed|sql|python|snapshot|test)", result.stdout), result.stdout
    assert "Compilation Error" not in result.stdout
    if "loyalty_pts" in message:  # the seed's own extra column is among the usable ones
        assert "has_email, loyalty_points" in result.stdout
    else:
        assert "var n_segment is not a setting of this project" in result.stdout


def test_segment_build_on_spark_checks_the_settings_before_its_first_dbt_step(capsys):
    """Spark has no dbt-duckdb plugin for the on-run-start check: `segment build` applies the
    same rules in Python before it runs dbt at all."""
    import json
    from types import SimpleNamespace

    from custseg.build import FIT_NODE, build_on_spark

    node = SimpleNamespace(config={"segmentation": json.dumps({"features": None,
                                                               "scaler": "bogus"})})
    invoked = []
    runner = SimpleNamespace(invoke=invoked.append)
    with pytest.raises(SystemExit):
        build_on_spark(runner, SimpleNamespace(nodes={FIT_NODE: node}), [], False)
    assert invoked == []
    assert "scaler must be one of ('standard', 'robust'), got 'bogus'" in capsys.readouterr().err
