"""Daily builds: transactions and campaign contacts arrive as directories of files, one per
delivery, and a build validates only the files it has not seen, re-totals only the customers
they touch and gives exactly what a --full-refresh build gives.

The sample's transactions and contacts are each split into two deliveries; the second also
holds an exact copy and a conflicting copy of a row the first build accepted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import query, run_dbt, sample_tables

# What a full build and an incremental one must agree on, row for row; the incremental base
# models without the columns that say when and from which version of a file a row was read.
COMPARED = {
    "main_staging.base_transactions": "* exclude (loaded_at, source_version)",
    "main_staging.base_campaign_contacts": "* exclude (loaded_at, source_version)",
    "main_staging.stg_rejects": "*",
    "main_intermediate.int_customer_rfm_scores": "*",
    "main_intermediate.int_customer_features": "*",
    "main_intermediate.int_customer_features_prepared": "*",
}
UPSTREAM_OF_THE_FIT = ["+int_customer_features_prepared", "+stg_rejects"]


def snapshot(workdir: Path) -> dict[str, pd.DataFrame]:
    """Every compared table, its rows sorted on every column."""
    tables = {}
    for table, columns in COMPARED.items():
        rows = query(workdir, f"select {columns} from {table} order by all")
        tables[table] = pd.DataFrame(rows)
    return tables


def assert_same_tables(got: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    for table, frame in expected.items():
        pd.testing.assert_frame_equal(got[table], frame, check_exact=True, obj=table)


def write_delivery(directory: Path, name: str, rows: pd.DataFrame,
                   input_name: str = "transactions") -> Path:
    path = directory / input_name / name
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory) -> dict:
    """A raw_data_dir with the sample's customers and campaigns and the first delivery of
    transactions and of campaign contacts (70% of the sample's rows of each); the second
    deliveries' rows."""
    directory = tmp_path_factory.mktemp("deliveries")
    tables = sample_tables()
    for name in ("customers", "campaigns"):
        tables[name].to_csv(directory / f"{name}.csv", index=False)
    split = {}
    for name in ("transactions", "campaign_contacts"):
        rows = tables[name]
        cut = int(len(rows) * 0.7)
        split[name] = rows.iloc[:cut], rows.iloc[cut:]
        write_delivery(directory, "2026-11-01.parquet", split[name][0], name)
    return {"dir": directory, "first": split["transactions"][0],
            "second": split["transactions"][1], "contacts": split["campaign_contacts"],
            "customers": tables["customers"]}


@pytest.fixture(scope="module")
def daily_builds(tmp_path_factory, deliveries) -> dict:
    """Build on the first delivery, then add the second and build again (incremental); the
    tables after each step."""
    workdir = tmp_path_factory.mktemp("daily_builds")
    variables = {"raw_data_dir": str(deliveries["dir"])}
    run_dbt(["build"], workdir, variables)
    accepted = query(workdir, """
        select transaction_id from main_staging.base_transactions
        where reject_reason is null order by transaction_id limit 2""")
    first = deliveries["first"]
    exact = first[first["transaction_id"] == accepted[0][0]].head(1)
    conflicting = first[first["transaction_id"] == accepted[1][0]].head(1).copy()
    conflicting["quantity"] = "97"
    second = pd.concat([deliveries["second"], exact, conflicting], ignore_index=True)
    write_delivery(deliveries["dir"], "2026-11-02.parquet", second)
    first_contacts, second_contacts = deliveries["contacts"]
    contacts = query(workdir, """
        select campaign_id, customer_id from main_staging.base_campaign_contacts
        where reject_reason is null order by all limit 2""")
    keys = (first_contacts["campaign_id"].str.strip() + "|"
            + first_contacts["customer_id"].str.strip())
    exact_contact = first_contacts[keys == "|".join(contacts[0])].head(1)
    conflicting_contact = first_contacts[keys == "|".join(contacts[1])].head(1).copy()
    conflicting_contact["response_revenue"] = "97"
    write_delivery(deliveries["dir"], "2026-11-02.parquet", pd.concat(
        [second_contacts, exact_contact, conflicting_contact], ignore_index=True),
        "campaign_contacts")
    incremental = run_dbt(["build"], workdir, variables)
    return {"workdir": workdir, "variables": variables, "copies": (accepted[0][0], accepted[1][0]),
            "contact_copies": (contacts[0], contacts[1]),
            "incremental_log": incremental.stdout, "tables": snapshot(workdir)}


def test_a_copy_of_an_accepted_transaction_in_a_later_file_is_rejected(daily_builds):
    exact, conflicting = daily_builds["copies"]
    rows = query(daily_builds["workdir"], f"""
        select transaction_id, reject_reason, regexp_extract(source_file, '[^/]+$')
        from main_staging.base_transactions
        where transaction_id in ('{exact}', '{conflicting}') order by all""")
    assert sorted(rows, key=lambda row: (row[0], row[2])) == [
        (exact, None, "2026-11-01.parquet"),
        (exact, "duplicate_transaction_id", "2026-11-02.parquet"),
        (conflicting, None, "2026-11-01.parquet"),
        (conflicting, "conflicting_transaction_id", "2026-11-02.parquet"),
    ]


def test_a_copy_of_an_accepted_contact_in_a_later_file_is_rejected(daily_builds):
    exact, conflicting = daily_builds["contact_copies"]
    rows = query(daily_builds["workdir"], f"""
        select campaign_id, customer_id, reject_reason, regexp_extract(source_file, '[^/]+$')
        from main_staging.base_campaign_contacts
        where (campaign_id, customer_id) in (('{exact[0]}', '{exact[1]}'),
                                             ('{conflicting[0]}', '{conflicting[1]}'))""")
    assert sorted(rows, key=lambda row: (row[0], row[1], row[3])) == sorted([
        (*exact, None, "2026-11-01.parquet"),
        (*exact, "duplicate_contact", "2026-11-02.parquet"),
        (*conflicting, None, "2026-11-01.parquet"),
        (*conflicting, "conflicting_contact", "2026-11-02.parquet"),
    ], key=lambda row: (row[0], row[1], row[3]))


def test_the_second_build_reads_only_the_new_file_and_retotals_only_its_customers(
        daily_builds, deliveries):
    workdir = daily_builds["workdir"]
    loads = query(workdir, """
        select regexp_extract(source_file, '[^/]+$'), count(*), count(distinct loaded_at)
        from main_staging.base_transactions group by 1 order by 1""")
    assert loads == [("2026-11-01.parquet", len(deliveries["first"]), 1),
                     ("2026-11-02.parquet", len(deliveries["second"]) + 2, 1)]
    contact_loads = query(workdir, """
        select regexp_extract(source_file, '[^/]+$'), count(*), count(distinct loaded_at)
        from main_staging.base_campaign_contacts group by 1 order by 1""")
    first_contacts, second_contacts = deliveries["contacts"]
    assert contact_loads == [("2026-11-01.parquet", len(first_contacts), 1),
                             ("2026-11-02.parquet", len(second_contacts) + 2, 1)]
    first_load, second_load = (row[0] for row in query(workdir, """
        select distinct loaded_at from main_staging.base_transactions order by 1"""))
    assert first_load < second_load
    retotalled, kept = query(workdir, f"""
        select
            count(case when loaded_through = '{second_load}' then 1 end),
            count(case when loaded_through = '{first_load}' then 1 end)
        from main_intermediate.int_customer_purchase_totals""")[0]
    touched = query(workdir, f"""
        select count(distinct customer_id) from main_staging.stg_transactions
        where loaded_at = '{second_load}'""")[0][0]
    assert retotalled == touched and kept > 0
    assert "validating every row" not in daily_builds["incremental_log"]


def test_the_incremental_build_equals_a_full_refresh(daily_builds, tmp_path):
    workdir = tmp_path / "full"
    shutil.copytree(daily_builds["workdir"], workdir)
    run_dbt(["run", "--full-refresh", "-s", *UPSTREAM_OF_THE_FIT], workdir,
            daily_builds["variables"])
    assert_same_tables(daily_builds["tables"], snapshot(workdir))


def test_a_removed_customer_revalidates_every_file_and_equals_a_full_refresh(
        daily_builds, deliveries, tmp_path):
    """The orphan check of rows validated earlier depends on the customers: when a customer
    with accepted transactions is gone, every file is validated again."""
    workdir = tmp_path / "incremental"
    shutil.copytree(daily_builds["workdir"], workdir)
    variables = daily_builds["variables"]
    removed = query(workdir, "select min(customer_id) from main_staging.stg_transactions")[0][0]
    customers = deliveries["customers"]
    path = deliveries["dir"] / "customers.csv"
    customers[customers["customer_id"].str.strip() != removed].to_csv(path, index=False)
    try:
        result = run_dbt(["run", "-s", *UPSTREAM_OF_THE_FIT], workdir, variables)
        assert ("customer_id of accepted transactions is no longer an accepted one of customers"
                in result.stdout)
        incremental = snapshot(workdir)
        assert query(workdir, f"""
            select count(case when reject_reason is null then 1 end)
            from main_staging.base_transactions where customer_id = '{removed}'""") == [(0,)]
        assert query(workdir, f"""
            select count(*) from main_intermediate.int_customer_purchase_totals
            where customer_id = '{removed}'""") == [(0,)]
        run_dbt(["run", "--full-refresh", "-s", *UPSTREAM_OF_THE_FIT], workdir, variables)
    finally:
        customers.to_csv(path, index=False)
    assert_same_tables(incremental, snapshot(workdir))
