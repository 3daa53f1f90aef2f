"""`segment-report`: reads the marts from the serving DuckDB file and writes the HTML report."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from custseg.report.load import ReportError, load_marts
from custseg.report.page import STEPS, build_report, write_report
from custseg.serving import default_serving_path

DEFAULT_OUT = Path("reports/segment_report.html")


def default_db() -> Path:
    """The serving file the build publishes (custseg.serving): $SERVING_DUCKDB_PATH, else
    beside the build file ($DUCKDB_PATH, else custseg.duckdb) as <stem>_serving.duckdb."""
    return default_serving_path()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="segment-report",
        description="Write the customer segment report (one self-contained HTML file) "
        "from the marts of a built project.",
    )
    parser.add_argument("--db", type=Path, default=None,
                        help="DuckDB file holding the marts (default: the serving file, "
                        "$SERVING_DUCKDB_PATH, else custseg_serving.duckdb beside $DUCKDB_PATH)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"HTML file to write (default: {DEFAULT_OUT})")
    return parser.parse_args(argv)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit code 2 with one line on stderr when the database or a mart is missing."""
    args = parse_args(argv)
    db_path = args.db or default_db()
    try:
        progress(f"[1/{STEPS}] loading marts from {db_path}")
        marts = load_marts(db_path)
        document = build_report(marts, datetime.now(UTC), progress)
        progress(f"[{STEPS}/{STEPS}] writing {args.out}")
        write_report(document, args.out)
    except ReportError as error:
        print(f"segment-report: error: {error}", file=sys.stderr)
        return 2
    print(f"segment-report: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
