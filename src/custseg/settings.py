"""The project's settings (dbt vars): which exist, which were given, and which are misspelt.

The vars a user can set are the ones dbt_project.yml declares (each with its default and a
comment): that file is the one list, read here, never copied. A var given on the command line
(`--vars`) that the project does not declare is reported with the nearest declared name,
because a misspelling (`n_segment: 3`) is the usual cause and dbt itself ignores it.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

NON_ALPHANUMERIC = re.compile("[^a-z0-9]+")


def normalise_name(name: Any) -> str:
    """A column or feature name as the input contract spells it: lowercase, each run of
    non-alphanumerics as `_`, none at either end (`Spending Score` is `spending_score`). Input
    headers are normalised by macro normalise_column_name (macros/inputs/input_contract.sql),
    names in feature-list vars by that macro in SQL and by this function in the fit: the same
    rule in both languages (tests/python/test_settings.py renders the macro and compares)."""
    return NON_ALPHANUMERIC.sub("_", str(name).lower()).strip("_")


def project_dir() -> Path:
    """The dbt project directory: DBT_PROJECT_DIR, else dbt's own flag, else the cwd."""
    if os.environ.get("DBT_PROJECT_DIR"):
        return Path(os.environ["DBT_PROJECT_DIR"])
    try:
        from dbt.flags import get_flags

        flag = getattr(get_flags(), "PROJECT_DIR", None)
    except ImportError:  # pragma: no cover - dbt is a dependency
        flag = None
    return Path(flag) if flag else Path.cwd()


def declared_vars(directory: Path) -> dict[str, Any]:
    """The vars dbt_project.yml declares, with their defaults."""
    project = yaml.safe_load((directory / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(project.get("vars") or {})


def command_line_vars() -> dict[str, Any]:
    """The vars of the running dbt invocation's --vars (empty outside dbt)."""
    try:
        from dbt.flags import get_flags
    except ImportError:  # pragma: no cover
        return {}
    given = getattr(get_flags(), "VARS", None) or {}
    return dict(given) if isinstance(given, Mapping) else {}


def unknown_var_warnings(given: Iterable[str], declared: Iterable[str]) -> list[str]:
    """One line per given var the project does not declare, naming the closest declared one."""
    names = sorted(declared)
    lines = []
    for name in sorted(set(given) - set(names)):
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f": did you mean {close[0]}?" if close else ""
        lines.append(f"var {name} is not a setting of this project and was ignored{hint}")
    return lines


def settings_lines(declared: Mapping[str, Any], given: Mapping[str, Any]) -> list[str]:
    """Every declared var with the value a build with `given` (--vars) uses, marked when given;
    then the given vars the project does not declare."""
    width = max(map(len, declared), default=0)
    lines = []
    for name, default in declared.items():
        value, origin = (given[name], "--vars") if name in given else (default, "default")
        text = json.dumps(value)
        if len(text) > 70:
            text = f"{text[:60]}... ({len(value)} entries)"
        lines.append(f"{name:<{width}}  {text}  ({origin})")
    return lines + unknown_var_warnings(given, declared)


# stg_customers' text columns that are no customer attribute: the key and the list of
# attributes staging nulled. Its other text and boolean columns (the contract's gender, city,
# membership_tier and has_email, then the extra text columns of the input that staging kept)
# are what macro categorical_attributes() lets segmentation_features name.
NOT_CATEGORICAL = ("customer_id", "invalid_attributes")


def feature_lines(database: Path) -> list[str]:
    """The columns usable as segmentation features, from the last build: the numeric ones
    from dim_features, then the categorical ones (the text and boolean customer attributes of
    stg_customers), each with its status in the last fit when it took part."""
    import duckdb

    if not database.exists():
        return [f"{database} does not exist yet: build once to list the usable feature columns"]
    with duckdb.connect(str(database), read_only=True) as con:
        tables = {(schema, name) for schema, name in con.sql(
            "select table_schema, table_name from information_schema.tables").fetchall()}
        if ("main_marts", "dim_features") not in tables:
            return [f"{database} has no main_marts.dim_features: build once to list them"]
        rows = con.sql("select feature, source_model, is_default_feature, fit_status "
                       "from main_marts.dim_features order by feature_order").fetchall()
        categorical = [name for name, data_type in con.sql(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'main_staging' and table_name = 'stg_customers' "
            "order by ordinal_position").fetchall()
            if data_type in ("VARCHAR", "BOOLEAN") and name not in NOT_CATEGORICAL]
        fit = {}
        if ("main_intermediate", "int_segment_fit_features") in tables:
            fit = dict(con.sql(
                "select feature, case when is_used then 'used' else 'excluded: ' || "
                "excluded_reason end from main_intermediate.int_segment_fit_features").fetchall())
    numeric = [f"{feature}  from {source}{', default' if default else ''}"
               f"{'; last fit: ' + status if status else ''}"
               for feature, source, default, status in rows]
    return numeric + [f"{name}  categorical, from stg_customers"
                      f"{'; last fit: ' + fit[name] if name in fit else ''}"
                      for name in categorical]
