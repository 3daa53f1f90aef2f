"""The serving database: where readers (BI tools, notebooks, segment-report) find the marts.

Every successful build publishes the public marts into a DuckDB file of their own (and, when
asked, Parquet files), so readers never hold a lock on the build file and never see more than
the marts. The SQL that copies them is macros/serving.sql (on-run-end); this module holds the
file side, called from that SQL through DuckDB functions the project's dbt-duckdb plugin
registers (custseg.duckdb_plugin): where the files go, and moving a finished scratch copy into
place atomically, so a reader opening the file sees the previous version or the new one, never
a mix. A reader's open connection keeps reading the version it opened (POSIX keeps a replaced
file's data while it is open); a new connection sees the new one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

SERVING_PATH_ENV = "SERVING_DUCKDB_PATH"
PARQUET_DIR_ENV = "SERVING_PARQUET_DIR"
BUILD_PATH_ENV = "DUCKDB_PATH"
DEFAULT_BUILD_PATH = "custseg.duckdb"
SCRATCH_MARK = ".publishing-"


def serving_path(build_path: str | os.PathLike[str],
                 environ: Mapping[str, str] = os.environ) -> Path:
    """The serving DuckDB file: $SERVING_DUCKDB_PATH, else `<build stem>_serving.duckdb`
    beside the build file (custseg.duckdb -> custseg_serving.duckdb)."""
    explicit = environ.get(SERVING_PATH_ENV, "").strip()
    if explicit:
        return Path(explicit)
    build = Path(build_path)
    return build.with_name(f"{build.stem}_serving{build.suffix or '.duckdb'}")


def default_serving_path(environ: Mapping[str, str] = os.environ) -> Path:
    """The serving file of the build file profiles.yml uses ($DUCKDB_PATH, else
    custseg.duckdb): what readers open by default."""
    return serving_path(environ.get(BUILD_PATH_ENV) or DEFAULT_BUILD_PATH, environ)


def parquet_dir(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The directory of the Parquet copy of the serving marts ($SERVING_PARQUET_DIR), or None
    when no Parquet copy is wanted."""
    explicit = environ.get(PARQUET_DIR_ENV, "").strip()
    return Path(explicit) if explicit else None


def scratch_path(final: str | os.PathLike[str], run_id: str, directory: bool = False) -> Path:
    """Where one publication is written before it moves into place: a hidden sibling of
    `final` (same directory, so the move is a rename on one file system), created empty when
    `directory`. Left-overs of an interrupted publication are removed first."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{final.name}{SCRATCH_MARK}*"):
        remove(stale)
    scratch = final.with_name(f".{final.name}{SCRATCH_MARK}{run_id}")
    if directory:
        scratch.mkdir()
    return scratch


def remove(path: Path) -> None:
    """Removes a file or a directory tree, if there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def move_into_place(scratch: str | os.PathLike[str], final: str | os.PathLike[str]) -> str:
    """Moves a finished publication into place; returns `final`.

    A file replaces `final` in one rename (os.replace). A directory (the Parquet copy) moves
    file by file, each in one rename, and files of `final` the new publication does not have
    (a mart since removed) go, so the directory mirrors the serving file.
    """
    scratch, final = Path(scratch), Path(final)
    if scratch.is_dir():
        final.mkdir(parents=True, exist_ok=True)
        published = {path.name for path in scratch.iterdir()}
        for path in sorted(scratch.iterdir()):
            os.replace(path, final / path.name)
        for path in final.iterdir():
            if path.name not in published and path.suffix == ".parquet":
                path.unlink()
        scratch.rmdir()
    else:
        # A DuckDB file detached cleanly has no write-ahead log left; never move one along.
        Path(f"{scratch}.wal").unlink(missing_ok=True)
        os.replace(scratch, final)
    return str(final)
