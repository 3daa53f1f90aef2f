"""The segment report: built from the marts of the sample build's serving file (what readers
open), checked against them, rendered in headless Chromium."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from conftest import connect
from custseg.report.load import MARTS_SCHEMA, load_marts
from custseg.report.page import STEPS, build_report
from custseg.report.sections import (
    distributions_frame,
    overview_frame,
    run_history_table,
    run_metadata_frame,
    run_metadata_table,
)
from custseg.serving import default_serving_path

SEGMENT_REPORT = Path(sys.executable).with_name("segment-report")
SECTION_TABLES = {  # section anchor -> ids of the great-tables tables it must hold
    "overview": ["overview"],
    "profiles": ["heatmap"],
    "distributions": ["distributions"],
    "k-selection": ["k_selection"],
    "rules": ["rules", "importance"],
    "campaigns": ["offer_summary", "campaigns"],
    "data-quality": ["data_quality"],
    "model-health": ["model_health", "drift_checks"],
    "run": ["run_metadata", "run_history"],
}
SERVING = "custseg_serving.duckdb"  # the serving file beside a build dir's custseg.duckdb
GENERATED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def run_report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SEGMENT_REPORT), *args], capture_output=True, text=True)


def frame(db: Path, sql: str) -> pd.DataFrame:
    with connect(db) as con:
        return con.sql(sql).df()


def section(document: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', document, re.DOTALL)
    assert match, f"section {anchor} missing"
    return match.group(1)


def cells(document: str, table_id: str, column: str) -> list[str]:
    """The rendered body cells of one column of one great-tables table, top to bottom."""
    pattern = rf'<td[^>]*headers="[^"]*\b{re.escape(table_id)}-{re.escape(column)}"[^>]*>(.*?)</td>'
    return [html.unescape(value).strip() for value in re.findall(pattern, document, re.DOTALL)]


def signed(value: float) -> str:
    """A heatmap value as rendered: one decimal, a sign unless it rounds to zero, '—' if null."""
    if pd.isna(value):
        return "—"
    if round(value, 1) == 0:
        return "0.0"
    return f"{value:+.1f}".replace("-", "−")


def heatmap_cells(document: str) -> dict[tuple[str, str], str]:
    """The heatmap's segment cells keyed by (row label, segment column such as 's1')."""
    body = re.search(r'id="heatmap".*?<tbody[^>]*>(.*?)</tbody>', document, re.DOTALL).group(1)
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL):
        stub = re.search(r'<th[^>]*\bgt_stub\b[^>]*>(.*?)</th>', row, re.DOTALL)
        assert stub, row
        label = html.unescape(stub.group(1)).strip()
        for column, value in re.findall(
                r'<td[^>]*headers="[^"]*\bheatmap-(s\d+)"[^>]*>(.*?)</td>', row, re.DOTALL):
            assert (label, column) not in found, (label, column)
            found[(label, column)] = html.unescape(value).strip()
    return found


def heatmap_groups(document: str) -> dict[str, str]:
    """Each heatmap row label -> the heading of the row group it sits in."""
    body = re.search(r'id="heatmap".*?<tbody[^>]*>(.*?)</tbody>', document, re.DOTALL).group(1)
    groups, group = {}, None
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.DOTALL):
        heading = re.search(r'<th[^>]*\bgt_group_heading\b[^>]*>(.*?)</th>', row, re.DOTALL)
        if heading:
            group = html.unescape(heading.group(1)).strip()
            continue
        stub = re.search(r'<th[^>]*\bgt_stub\b[^>]*>(.*?)</th>', row, re.DOTALL)
        groups[html.unescape(stub.group(1)).strip()] = group
    return groups


TRAIT = re.compile(r"\((?P<feature>\w+) (?P<value>[+-]?\d+\.\d) (?P<unit>SD|IQR)\)$")


def traits(db: Path) -> list[tuple[int, str, str, str]]:
    """(segment id, feature, value as the heatmap writes it, unit) for every trait of
    dim_segments, parsed from its text such as 'small orders (avg_order_value -1.1 SD)'."""
    segments = frame(db, "select segment_id, traits from dim_segments where traits <> ''")
    found = []
    for segment_id, text in zip(segments["segment_id"], segments["traits"], strict=True):
        for trait in text.split("; "):
            match = TRAIT.search(trait)
            assert match, trait
            found.append((int(segment_id), match["feature"],
                          signed(float(match["value"])), match["unit"]))
    return found


def assert_heatmap_agrees_with_traits(db: Path, document: str, unit: str,
                                      min_traits: int = 3) -> None:
    """Every trait of dim_segments is the heatmap cell of its segment and feature (row and
    column, not sorted values); that cell is in the clustering group, whose heading, like the
    subtitle and the traits, states the scaler's unit; the other group is in raw SDs."""
    labels = dict(frame(db, "select feature, feature_label from dim_features").itertuples(
        index=False))
    clustering = set(frame(db, "select distinct feature from segment_centroids")["feature"])
    found = traits(db)
    assert len(found) >= min_traits  # the segments have traits to compare
    rendered = heatmap_cells(document)
    groups = heatmap_groups(document)
    clustering_group = f"Clustering features: segment centre, in {unit} of the prepared feature"
    other_group = "Other features (not clustered on): segment mean, in SD of the raw values"
    for segment_id, feature, value, trait_unit in found:
        assert trait_unit == unit, (segment_id, feature, trait_unit)
        assert rendered[(labels[feature], f"s{segment_id}")] == value, (segment_id, feature)
    assert groups == {
        labels[feature]: clustering_group if feature in clustering else other_group
        for feature in frame(db, "select distinct feature from segment_feature_profiles")[
            "feature"]
    }
    body = section(document, "profiles")
    assert f"Clustering features show the segment centre in {unit}," in html.unescape(body)
    assert f"scaled by the {'robust' if unit == 'IQR' else 'standard'} scaler" in body


def strip_generated_at(document: str) -> str:
    return GENERATED_AT.sub("", document)


@pytest.fixture(scope="module")
def sample_db(sample_build) -> Path:
    """The sample build's serving file: the report's default input."""
    return default_serving_path({"DUCKDB_PATH": str(sample_build / "custseg.duckdb")})


@pytest.fixture(scope="module")
def report(sample_db, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("report") / "nested" / "segment_report.html"
    result = run_report("--db", str(sample_db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


@pytest.fixture(scope="module")
def document(report) -> str:
    return report[0].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def robust_db(variant_build) -> Path:
    """The sample fitted with the robust scaler (median / IQR): traits and centroids in IQR."""
    return variant_build("configured") / SERVING


def test_report_has_every_section_and_shows_progress(report, document):
    _, result = report
    for anchor, table_ids in SECTION_TABLES.items():
        body = section(document, anchor)
        for table_id in table_ids:
            assert f'<div id="{table_id}"' in body, (anchor, table_id)
        # every table has a title, a subtitle and a source note
        assert body.count('class="gt_heading gt_title') == len(table_ids), anchor
        assert body.count('class="gt_heading gt_subtitle') == len(table_ids), anchor
        assert body.count("gt_sourcenote") >= len(table_ids), anchor
    assert document.count('<img src="data:image/png;base64,') == 2  # map and elbow chart
    assert 'class="gt-nanoplot' in section(document, "distributions")
    assert 'class="gt-nanoplot' in section(document, "k-selection")
    progress = result.stderr.splitlines()
    assert progress[0].startswith(f"[1/{STEPS}] loading marts")
    assert any(line.startswith(f"[{STEPS}/{STEPS}] writing") for line in progress)
    assert "Traceback" not in result.stderr


def test_overview_numbers_match_segment_profiles(sample_db, document):
    profiles = frame(sample_db, """
        select profiles.*, segments.segment_name
        from segment_profiles as profiles
        inner join dim_segments as segments using (segment_id)
        order by customers desc, segment_id
    """)
    assert cells(document, "overview", "segment_name") == list(profiles["segment_name"])
    assert cells(document, "overview", "customers") == [f"{n:,}" for n in profiles["customers"]]
    assert cells(document, "overview", "customer_share") == [
        f"{share:.1%}" for share in profiles["customer_share"]
    ]
    assert cells(document, "overview", "revenue_share") == [
        f"{share:.1%}" for share in profiles["revenue_share"]
    ]
    assert sum(int(n.replace(",", "")) for n in cells(document, "overview", "customers")) == int(
        frame(sample_db, "select count(*) as n from dim_customer_segments")["n"][0]
    )


def test_k_selection_matches_mart(sample_db, document):
    ks = frame(sample_db, "select * from segment_k_selection order by k")
    chosen = ks[ks["is_chosen"]].iloc[0]
    body = section(document, "k-selection")
    assert f"K = {int(chosen['k'])} (chosen)" in body
    assert body.count("(chosen)") == 1
    chosen_cells = cells(body, "k_selection", f"k{int(chosen['k'])}")
    assert chosen_cells == [
        f"{chosen['inertia']:,.0f}", f"{chosen['silhouette']:.3f}",
        f"{chosen['davies_bouldin']:.3f}", f"{chosen['calinski_harabasz']:,.0f}",
    ]
    assert len(cells(body, "k_selection", "curve")) == 4


def test_data_quality_matches_summary(sample_db, document):
    summary = frame(sample_db, "select * from data_quality_summary")
    body = section(document, "data-quality")
    rendered = sorted(int(n.replace(",", "")) for n in cells(body, "data_quality", "rows"))
    assert rendered == sorted(int(n) for n in summary["rows"])
    for source, rows in summary.groupby("source")["rows"].sum().items():
        assert f"{source} · {int(rows):,} raw rows" in body
    for reason in summary["reason"].dropna():
        assert f">{reason}<" in body


def test_other_sections_match_marts(sample_db, document):
    rules = frame(sample_db, "select * from segment_rules order by segment_id, rule_number")
    assert cells(document, "rules", "rule") == list(rules["rule"])
    run = frame(sample_db, "select * from segment_runs where is_latest").iloc[0]
    assert f"{run['rules_accuracy']:.1%} of customers" in section(document, "rules")
    run_body = section(document, "run")
    for value in (run["run_id"], run["feature_fingerprint"]):
        assert f">{value}<" in run_body
    campaigns = frame(sample_db, """
        select * from segment_campaign_performance
        order by campaign_start_date, campaign_id, segment_id
    """)
    assert cells(document, "campaigns", "lift") == [
        f"{lift:.2f}" if pd.notna(lift) else "—" for lift in campaigns["lift"]
    ]


def expected_heatmap(db: Path) -> dict[tuple[str, str], str]:
    """What every heatmap cell should show, from the marts and rounded by SQL: the scaled
    centroid for a clustering feature, the raw mean difference in SDs for any other."""
    rows = frame(db, """
        select
            features.feature_label,
            profiles.segment_id,
            round(coalesce(centroids.centroid_scaled, profiles.mean_diff_sd), 1) as shown
        from segment_feature_profiles as profiles
        inner join dim_features as features using (feature)
        left join segment_centroids as centroids using (segment_id, feature)
    """)
    return {(row.feature_label, f"s{int(row.segment_id)}"): signed(row.shown)
            for row in rows.itertuples()}


def test_heatmap_cells_match_marts(sample_db, document):
    # Cell by cell: each value sits in its feature's row and its segment's column.
    assert heatmap_cells(document) == expected_heatmap(sample_db)


def test_heatmap_shows_the_distance_the_traits_state(sample_db, document):
    assert_heatmap_agrees_with_traits(sample_db, document, "SD")


def test_heatmap_agrees_with_traits_with_the_robust_scaler(robust_db, tmp_path):
    out = tmp_path / "segment_report.html"
    result = run_report("--db", str(robust_db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    document = out.read_text(encoding="utf-8")
    assert heatmap_cells(document) == expected_heatmap(robust_db)
    assert_heatmap_agrees_with_traits(robust_db, document, "IQR")


def test_a_report_of_one_clustering_feature_draws_its_map_as_strips(variant_build, tmp_path):
    db = variant_build("one_feature") / SERVING
    out = tmp_path / "segment_report.html"
    result = run_report("--db", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    document = out.read_text(encoding="utf-8")
    assert 'src="data:image/png;base64,' in section(document, "map")
    assert heatmap_cells(document) == expected_heatmap(db)
    assert_heatmap_agrees_with_traits(db, document, "SD", min_traits=1)


def test_report_has_no_external_urls(document):
    assert not re.search(r"https?://", document)
    assert "@import" not in document
    assert "<link" not in document and "<script src" not in document
    sources = re.findall(r'\bsrc="([^"]*)"', document)
    assert sources and all(source.startswith("data:image/png;base64,") for source in sources)


def test_same_database_gives_same_report(sample_db):
    marts = load_marts(sample_db)
    first = build_report(marts, datetime(2024, 1, 1, tzinfo=UTC), lambda _: None)
    second = build_report(load_marts(sample_db), datetime(2025, 6, 1, tzinfo=UTC),
                          lambda _: None)
    assert first != second  # the generation time is in it
    assert strip_generated_at(first) == strip_generated_at(second)


def test_missing_database_is_one_clear_line(tmp_path):
    result = run_report("--db", str(tmp_path / "absent.duckdb"), "--out",
                        str(tmp_path / "r.html"))
    assert result.returncode == 2
    assert result.stderr.count("\n") <= 2  # the progress line and the error
    assert "absent.duckdb not found" in result.stderr and "dbt build" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r.html").exists()


def copy_without(sample_db: Path, workdir: Path, tables: list[str]) -> Path:
    copy = workdir / "custseg.duckdb"
    shutil.copyfile(sample_db, copy)
    with connect(copy, read_only=False) as con:
        for table in tables:
            con.execute(f"drop table {MARTS_SCHEMA}.{table}")
    return copy


@pytest.mark.parametrize("mart", ["segment_profiles", "segment_campaign_performance"])
def test_missing_mart_is_one_clear_line(sample_db, tmp_path, mart):
    db = copy_without(sample_db, tmp_path, [mart])
    result = run_report("--db", str(db), "--out", str(tmp_path / "r.html"))
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[-1]
    assert f"{mart} missing" in error and "dbt build" in error
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_offer_summary_names_the_segment_campaign_targets_picks(sample_build, document):
    # the best responder per offer type, counted again from the contacts themselves (which
    # only the build file has)
    best = frame(sample_build, """
        with pooled as (
            select
                campaigns.offer_type,
                segments.segment_id,
                count(*) as contacted,
                count(case when contacts.responded then 1 end) as responded
            from stg_campaign_contacts as contacts
            inner join stg_campaigns as campaigns using (campaign_id)
            inner join int_customer_segments as segments using (customer_id)
            group by all
        ),
        bounds as (
            select
                *,
                responded / contacted as p,
                (p + 1.96 * 1.96 / (2 * contacted) - 1.96 * sqrt(
                    p * (1 - p) / contacted + 1.96 * 1.96 / (4 * contacted * contacted)))
                / (1 + 1.96 * 1.96 / contacted) as lower_bound
            from pooled
        ),
        ranked as (
            select *, row_number() over (
                partition by offer_type order by lower_bound desc, segment_id) as rank
            from bounds
        )
        select ranked.offer_type, ranked.p, dim_segments.segment_name
        from ranked inner join dim_segments using (segment_id)
        where rank = 1 order by offer_type
    """)
    assert len(best) == len(frame(sample_build, """
        select distinct offer_type from stg_campaign_contacts
        inner join stg_campaigns using (campaign_id)"""))
    assert cells(document, "offer_summary", "segment_name") == list(best["segment_name"])
    assert cells(document, "offer_summary", "response_rate") == [
        f"{value:.1%}" for value in best["p"]
    ]
    assert ">Discount<" in section(document, "campaigns")  # the sample has discount campaigns


def test_overridden_segment_name_is_marked(sample_db, document):
    marts = load_marts(sample_db)
    segments = marts.table("dim_segments")
    assert set(segments["name_source"]) == {"generated"}  # the sample overrides no name
    assert "(renamed)" not in "".join(cells(document, "overview", "segment_name"))
    renamed_id = int(segments["segment_id"].iloc[0])
    overridden = segments.assign(name_source=[
        "override" if sid == renamed_id else source
        for sid, source in zip(segments["segment_id"], segments["name_source"], strict=True)
    ])
    overview = overview_frame(marts.table("segment_profiles"), overridden)
    names = dict(zip(overview["segment_id"], overview["segment_name"], strict=True))
    expected = dict(zip(segments["segment_id"], segments["segment_name"], strict=True))
    expected[renamed_id] += " (renamed)"
    assert names == expected


def test_run_warnings_are_shown(sample_db, document):
    runs = load_marts(sample_db).table("segment_runs")
    assert runs["warnings"].isna().all() and runs["error"].isna().all()
    assert ">Warnings<" not in section(document, "run")
    assert ", no warnings" in section(document, "run")
    warned = runs.assign(warnings=[
        "feature age left out: constant; K range cut to 2..3" if latest else None
        for latest in runs["is_latest"]
    ])
    rows = run_metadata_frame(warned, {})
    shown = rows[rows["group"] == "Warnings"]
    assert list(shown["value"]) == ["feature age left out: constant", "K range cut to 2..3"]
    assert ">Warnings<" in run_metadata_table(warned, {}).as_raw_html()
    history = run_history_table(warned).as_raw_html()
    assert ">2 warning(s)<" in history


def test_report_renders_in_headless_chromium(report, sample_db, tmp_path):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("chromium not installed: `apt-get install -y chromium` (.ci/run does it)")
    out, _ = report
    flags = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr", "--v=0",
    ]
    screenshot = tmp_path / "report.png"
    shot = subprocess.run(
        [*flags, f"--screenshot={screenshot}", "--window-size=1400,3000", out.as_uri()],
        capture_output=True, text=True, timeout=180,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert "Uncaught" not in shot.stderr  # no JavaScript error in the page
    with Image.open(screenshot) as image:
        assert image.size == (1400, 3000)
        colours = image.convert("RGB").resize((350, 750)).getcolors(maxcolors=1_000_000)
    assert screenshot.stat().st_size > 50_000
    assert len(colours) > 200  # tables and charts, not a blank or error page
    dom = subprocess.run([*flags, "--dump-dom", out.as_uri()], capture_output=True, text=True,
                         timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    names = frame(sample_db, "select segment_name from dim_segments")["segment_name"]
    for name in names:
        assert html.escape(name) in dom.stdout, name
    assert "Customer segment report" in dom.stdout and "Data quality" in dom.stdout


def test_a_feature_no_customer_of_a_segment_has_gets_no_distribution_row():
    """A customers-only input: purchase features have no values, so no histogram (the
    distributions mart counts 0 customers); the table leaves them out instead of failing."""
    quartiles = {"feature_label": "x", "mean": 1.0, "p25": 1.0, "median": 1.0, "p75": 1.0}
    distributions = pd.DataFrame([
        {"feature": "age", "segment_id": 1, "customers": 3, **quartiles},
        {"feature": "age", "segment_id": 2, "customers": 2, **quartiles},
        {"feature": "avg_basket_quantity", "segment_id": 1, "customers": 0, **quartiles},
        {"feature": "avg_basket_quantity", "segment_id": 2, "customers": 0, **quartiles},
    ])
    histograms = pd.DataFrame({"feature": "age", "segment_id": [1, 1, 2],
                               "bin_number": [1, 2, 1], "customers": [2, 1, 2]})
    segments = pd.DataFrame({"segment_id": [1, 2], "segment_name": ["One", "Two"]})
    frame = distributions_frame(distributions, histograms, segments)
    assert list(zip(frame["feature"], frame["segment_id"], frame["shape"], strict=True)) == [
        ("age", 1, "2 1"), ("age", 2, "2")]
