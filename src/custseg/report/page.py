"""Assembles the sections into one self-contained HTML page (no external URL of any kind)."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from great_tables import GT

from custseg.report import charts, sections
from custseg.report.load import Marts

Progress = Callable[[str], None]

PAGE_CSS = """
body { font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue',
       Arial, sans-serif; color: #222; margin: 0; background: #fafafa; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 22px; margin: 40px 0 8px; border-bottom: 2px solid #e5e5e5; padding-bottom: 4px; }
.lede { color: #555; margin: 0 0 16px; }
nav ol { columns: 2; margin: 8px 0 0; padding-left: 20px; }
nav a { color: #0b5cad; text-decoration: none; }
figure { margin: 16px 0; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 13px; }
.gt-block { margin: 12px 0 24px; }
"""

EXTERNAL_IMPORT = re.compile(r"@import\s+url\([^)]*\)\s*;?", re.IGNORECASE)


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    body: str


def gt_html(table: GT) -> str:
    """A GT as an HTML fragment, with any external font import removed."""
    return f'<div class="gt-block">{EXTERNAL_IMPORT.sub("", table.as_raw_html())}</div>'


def image_html(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def overview_section(marts: Marts) -> Section:
    table = sections.overview_table(marts.table("segment_profiles"), marts.table("dim_segments"))
    return Section("overview", "Segment overview", gt_html(table))


def map_section(marts: Marts) -> Section:
    png = charts.segment_map_chart(
        marts.table("segment_customer_map"), marts.table("segment_centroids"),
        marts.table("dim_segments"), marts.customers_total)
    caption = ("Each dot is a customer (a fixed sample), placed by the two directions along "
               "which customers differ most in the clustering features; X marks a segment centre.")
    return Section("map", "Customer map", image_html(png, "Customer map by segment", caption))


def heatmap_section(marts: Marts) -> Section:
    table = sections.heatmap_table(marts.table("segment_feature_profiles"),
                                   marts.table("segment_centroids"), marts.table("dim_segments"),
                                   marts.table("segment_runs"))
    level_shares = marts.table("segment_level_shares")
    body = gt_html(table)
    if not level_shares.empty:  # categorical clustering features: their centroids as shares
        body += gt_html(sections.level_shares_table(level_shares, marts.table("dim_segments")))
    return Section("profiles", "Profile heatmap", body)


def distributions_section(marts: Marts) -> Section:
    table = sections.distributions_table(marts.table("segment_feature_distributions"),
                                         marts.table("segment_feature_histograms"),
                                         marts.table("dim_segments"))
    return Section("distributions", "Feature distributions", gt_html(table))


def k_selection_section(marts: Marts) -> Section:
    k_selection = marts.table("segment_k_selection")
    png = charts.k_selection_chart(k_selection)
    body = gt_html(sections.k_selection_table(k_selection)) + image_html(
        png, "Elbow and silhouette curves by K",
        "Inertia falls as K grows; the chosen K is where more segments stop paying off.")
    return Section("k-selection", "Choosing K", body)


def rules_section(marts: Marts) -> Section:
    rules = sections.rules_table(marts.table("segment_rules"), marts.table("segment_runs"),
                                 marts.table("dim_segments"))
    importance = sections.importance_table(marts.table("segment_feature_importance"))
    return Section("rules", "Segment rules", gt_html(rules) + gt_html(importance))


def campaigns_section(marts: Marts) -> Section:
    performance = marts.table("segment_campaign_performance")
    body = (gt_html(sections.offer_summary_table(marts.table("segment_offer_response")))
            + gt_html(sections.campaign_table(performance)))
    return Section("campaigns", "Campaign response", body)


def data_quality_section(marts: Marts) -> Section:
    table = sections.data_quality_table(marts.table("data_quality_summary"))
    return Section("data-quality", "Data quality", gt_html(table))


def model_health_section(marts: Marts) -> Section:
    body = gt_html(sections.model_health_table(
        marts.table("segment_runs"), marts.outliers_total, marts.customers_total)) + gt_html(
        sections.drift_table(marts.table("segment_drift")))
    return Section("model-health", "Model health", body)


def run_section(marts: Marts, generated_at: datetime) -> Section:
    report = {
        "Generated at": generated_at.isoformat(timespec="seconds"),
        "Database": str(marts.db_path),
        "Customers in dim_customer_segments": f"{marts.customers_total:,}",
    }
    runs = marts.table("segment_runs")
    body = gt_html(sections.run_metadata_table(runs, report)) + gt_html(
        sections.run_history_table(runs))
    return Section("run", "Run metadata", body)


SECTION_BUILDERS: tuple[tuple[str, Callable[[Marts], Section]], ...] = (
    ("segment overview", overview_section),
    ("customer map (PCA)", map_section),
    ("profile heatmap", heatmap_section),
    ("feature distributions", distributions_section),
    ("K selection", k_selection_section),
    ("segment rules", rules_section),
    ("campaign response", campaigns_section),
    ("data quality", data_quality_section),
    ("model health", model_health_section),
)
STEPS = len(SECTION_BUILDERS) + 3  # loading, the sections, run metadata, writing


def page_html(built: list[Section], generated_at: datetime, customers: int) -> str:
    toc = "".join(f'<li><a href="#{s.anchor}">{html.escape(s.title)}</a></li>' for s in built)
    body = "".join(
        f'<section id="{s.anchor}"><h2>{html.escape(s.title)}</h2>{s.body}</section>'
        for s in built
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Customer segment report</title><style>{PAGE_CSS}</style></head>"
        "<body><main><h1>Customer segment report</h1>"
        f'<p class="lede">{customers:,} customers, built from the dbt marts. Generated '
        f'<span id="generated-at">{generated_at.isoformat(timespec="seconds")}</span>.</p>'
        f"<nav><ol>{toc}</ol></nav>{body}</main></body></html>\n"
    )


def build_report(marts: Marts, generated_at: datetime, progress: Progress) -> str:
    """The whole report as one HTML string; progress(step) is called before each section."""
    built = []
    for number, (label, builder) in enumerate(SECTION_BUILDERS, start=2):
        progress(f"[{number}/{STEPS}] {label}")
        built.append(builder(marts))
    progress(f"[{STEPS - 1}/{STEPS}] run metadata")
    built.append(run_section(marts, generated_at))
    return page_html(built, generated_at, marts.customers_total)


def write_report(document: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document, encoding="utf-8")
    return out
