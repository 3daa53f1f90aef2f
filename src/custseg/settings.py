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
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml


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


def feature_lines(database: Path) -> list[str]:
    """The columns usable as segmentation features, from the last build's dim_features."""
    import duckdb

    if not database.exists():
        return [f"{database} does not exist yet: build once to list the usable feature columns"]
    with duckdb.connect(str(database), read_only=True) as con:
        found = con.sql("select 1 from duckdb_tables() where schema_name = 'main_marts' "
                        "and table_name = 'dim_features'").fetchall()
        if not found:
            return [f"{database} has no main_marts.dim_features: build once to list them"]
        rows = con.sql("select feature, source_model, is_default_feature, fit_status "
                       "from main_marts.dim_features order by feature_order").fetchall()
    return [f"{feature}  from {source}{', default' if default else ''}"
            f"{'; last fit: ' + status if status else ''}"
            for feature, source, default, status in rows]
