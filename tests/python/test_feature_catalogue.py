"""The feature catalogue: adding a feature as the README says, and settings that stop the build."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO, query, run_dbt

STORE_SHARE = """      - name: store_share
        description: Share of completed orders placed in a store.
"""


def copy_project(destination: Path) -> Path:
    shutil.copytree(REPO, destination, ignore=shutil.ignore_patterns(
        ".venv", "target", ".git", "logs", "*.duckdb", "*.duckdb.wal", "__pycache__", "reports"))
    return destination


def insert_after(path: Path, anchor: str, text: str, count: int = 1) -> None:
    """Insert text after every occurrence of the line(s) `anchor`; exactly `count` of them."""
    content = path.read_text()
    assert content.count(anchor) == count, f"{path}: {content.count(anchor)} x {anchor!r}"
    path.write_text(content.replace(anchor, anchor + text))


def add_store_share(project: Path) -> None:
    """The README's three steps ("Adding a feature") for a store_share feature."""
    model = project / "models/intermediate/int_customer_purchase_totals.sql"
    insert_after(model, "        customer_id,\n        count(case when status = 'completed'"
                 " then 1 end) as frequency,\n",
                 "        avg(case when status = 'completed' then case when channel = 'store'"
                 " then 1.0 else 0.0 end end) as store_share,\n")
    insert_after(model, "        totals.category_diversity,\n", "        totals.store_share,\n")
    docs = project / "models/intermediate/_intermediate__models.yml"
    content = docs.read_text()
    content = re.sub(r"(      - name: discount_share\n        description: [^\n]*\n)",
                     lambda match: match.group(1) + STORE_SHARE, content)
    docs.write_text(content)
    insert_after(project / "models/marts/segments/_segments__models.yml",
                 "      - name: discount_share\n        data_type: double\n"
                 "        description: Discounts as a share of gross order value.\n",
                 "      - name: store_share\n        data_type: double\n"
                 "        description: Share of completed orders placed in a store.\n")
    insert_after(project / "dbt_project.yml", "  feature_catalogue:\n",
                 "    store_share: {source: int_transactions_aggregated_to_customers,"
                 " default: true, label: Store share, high: store-goers, low: remote}\n")


@pytest.fixture(scope="module")
def with_store_share(tmp_path_factory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("catalogue") / "project")
    add_store_share(project)
    workdir = tmp_path_factory.mktemp("catalogue_build")
    run_dbt(["build"], workdir, project_dir=project)
    return workdir


def test_a_feature_added_in_three_places_reaches_every_mart(with_store_share):
    workdir = with_store_share
    # the value: an independent count over the accepted transactions, per customer
    expected = dict(query(workdir, """
        select customer_id, avg(case when channel = 'store' then 1.0 else 0.0 end)
        from stg_transactions
        where status = 'completed'
            and cast(transaction_ts as date) <= (select as_of_date from int_as_of_date)
        group by 1"""))
    actual = dict(query(workdir, "select customer_id, store_share from dim_customer_segments"))
    assert len(expected) > 2000
    assert {k: v for k, v in actual.items() if v is not None} == pytest.approx(expected)
    assert query(workdir, "select feature_label, high_label, is_default_feature, "
                          "is_clustering_feature from dim_features "
                          "where feature = 'store_share'") == [
        ("Store share", "store-goers", True, True)]
    # clustered on, scored in SQL, profiled
    assert query(workdir, "select count(*) > 0 from segment_centroids "
                          "where feature = 'store_share'") == [(True,)]
    assert query(workdir, "select count(*) > 0, bool_and(is_clustering_feature) "
                          "from segment_feature_profiles where feature = 'store_share'") == [
        (True, True)]
    assert query(workdir, "select count(*) = count(store_share) "
                          "from int_customer_features_prepared") == [(True,)]
    # the segment names may word it, and nothing else in the run names features by hand
    assert query(workdir, "select count(*) from segment_runs where is_latest "
                          "and features like '%store_share%'") == [(1,)]


@pytest.mark.parametrize(("variables", "message"), [
    ({"feature_catalogue": {"recency_days": {
        "source": "int_transactions_aggregated_to_customers", "tranform": "log1p"}}},
     "feature 'recency_days': unknown field 'tranform'"),
    ({"feature_catalogue": {"recency_days": {
        "source": "int_transactions_aggregated_to_customers", "transform": "sqrt"}}},
     "transform must be none or log1p, not 'sqrt'"),
    ({"log_transform_features": ["monetary"]},
     "var log_transform_features is gone: say transform: log1p"),
    ({"extra_features": {"spending_scor": {"transform": "log1p"}}},
     "var extra_features names 'spending_scor', which is not an extra"),
])
def test_a_catalogue_mistake_stops_the_build_naming_it(tmp_path, variables, message):
    result = run_dbt(["compile", "--select", "int_feature_bounds"], tmp_path, variables,
                     check=False)
    assert result.returncode != 0
    assert message in result.stdout
