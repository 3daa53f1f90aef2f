"""The segment report: one self-contained HTML file of great-tables tables and charts, built
read-only from the marts (`segment-report`, see custseg.report.cli)."""

from custseg.report.cli import main

__all__ = ["main"]
