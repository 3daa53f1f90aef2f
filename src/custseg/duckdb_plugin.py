"""dbt-duckdb plugin (declared in profiles.yml): the id salt and the serving file's functions.

With var `pseudonymize_customer_ids` on, the serving file exposes sha256(salt || customer_id)
instead of customer ids. The salt must never be written down: not in the repo, not in dbt's
compiled SQL, logs or manifest, not in a DuckDB file. So SQL does not contain it. This plugin
defines a temporary, connection-local DuckDB macro `custseg_id_salt()` on every cursor dbt
opens, returning the CUSTSEG_ID_SALT environment variable; when it is not set, the macro raises
an error that says so.

It also registers the file side of publishing (custseg.serving) as DuckDB functions, so the
on-run-end SQL of macros/serving.sql can ask where the serving file goes and move a finished
copy into place: custseg_serving_path(build_path), custseg_parquet_dir(),
custseg_scratch_path(final, run_id, directory), custseg_move_into_place(scratch, final); and
the settings check of on-run-start (macros/check_settings.sql), so that the fit's own rules
(custseg.clustering.settings_error) stop a build before its first model:
custseg_check_settings(settings, known, defaults).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from custseg import serving

SALT_ENV = "CUSTSEG_ID_SALT"
MISSING = (f"pseudonymize_customer_ids is on but the environment variable {SALT_ENV} is not set: "
           f"export {SALT_ENV}=<a long random secret> (keep it out of the repo)")


def salt_macro_sql(salt: str | None) -> str:
    """The DDL of custseg_id_salt(): the salt as a string literal, or an error when unset."""
    # The cast keeps DuckDB from folding `error(...) || id` to null without raising.
    body = (f"cast(error('{MISSING}') as varchar)" if not salt
            else "'" + salt.replace("'", "''") + "'")
    return f"create or replace temp macro custseg_id_salt() as {body}"


def check_settings(settings: str, known: str, defaults: str) -> str:
    """custseg_check_settings(): JSON {error, warnings} for the fit's settings (segment_model's
    config, JSON), the usable feature columns and the default set (JSON lists, or null when
    not known): the error the fit would stop with (custseg.clustering.settings_error), and one line
    per var given on the command line that the project does not declare."""
    # Imported here: the fit's modules (scikit-learn) load only when a build checks.
    from custseg.clustering import settings_error
    from custseg.settings import (
        command_line_vars,
        declared_vars,
        project_dir,
        unknown_var_warnings,
    )

    error = settings_error(json.loads(settings), json.loads(known), json.loads(defaults))
    warnings = unknown_var_warnings(command_line_vars(), declared_vars(project_dir()))
    return json.dumps({"error": error, "warnings": warnings})


def register_functions(conn: Any) -> None:
    """The custseg.serving file operations and the settings check as DuckDB scalar functions
    on `conn` (and its cursors); each returns text."""
    text, flag = "VARCHAR", "BOOLEAN"
    functions: list[tuple[str, Callable[..., str], list[str]]] = [
        ("custseg_serving_path", lambda build: str(serving.serving_path(build)), [text]),
        ("custseg_parquet_dir", lambda: str(serving.parquet_dir() or ""), []),
        ("custseg_scratch_path", lambda final, run_id, directory: str(
            serving.scratch_path(final, run_id, directory)), [text, text, flag]),
        ("custseg_move_into_place", serving.move_into_place, [text, text]),
        ("custseg_check_settings", check_settings, [text, text, text]),
    ]
    for name, function, parameters in functions:
        conn.create_function(name, function, parameters, text, side_effects=True)


class Plugin(BasePlugin):
    """Registers the functions on the connection and defines custseg_id_salt() on each cursor
    (temporary macros are per connection)."""

    def configure_connection(self, conn: Any) -> None:
        register_functions(conn)

    def configure_cursor(self, cursor: Any) -> None:
        cursor.execute(salt_macro_sql(os.environ.get(SALT_ENV)))
