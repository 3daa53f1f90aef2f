"""dbt-duckdb plugin: the salt for pseudonymised customer ids, from the environment only.

With var `pseudonymize_customer_ids` on, the marts expose sha256(salt || customer_id) instead of
customer ids. The salt must never be written down: not in the repo, not in dbt's compiled SQL,
logs or manifest, not in the DuckDB file. So SQL does not contain it. This plugin (declared in
profiles.yml) defines a temporary, connection-local DuckDB macro `custseg_id_salt()` on every
cursor dbt opens, returning the CUSTSEG_ID_SALT environment variable; when it is not set, the
macro raises an error that says so.
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

SALT_ENV = "CUSTSEG_ID_SALT"
MISSING = (f"pseudonymize_customer_ids is on but the environment variable {SALT_ENV} is not set: "
           f"export {SALT_ENV}=<a long random secret> (keep it out of the repo)")


def salt_macro_sql(salt: str | None) -> str:
    """The DDL of custseg_id_salt(): the salt as a string literal, or an error when unset."""
    # The cast keeps DuckDB from folding `error(...) || id` to null without raising.
    body = (f"cast(error('{MISSING}') as varchar)" if not salt
            else "'" + salt.replace("'", "''") + "'")
    return f"create or replace temp macro custseg_id_salt() as {body}"


class Plugin(BasePlugin):
    """Defines custseg_id_salt() on each cursor (temporary macros are per connection)."""

    def configure_cursor(self, cursor: Any) -> None:
        cursor.execute(salt_macro_sql(os.environ.get(SALT_ENV)))
