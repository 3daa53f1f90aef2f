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
