"""Daily builds: transactions and campaign contacts arrive as directories of files, one per
delivery, or as warehouse tables that grow; a build validates only the files (or rows) it has
not seen, re-totals only the customers they touch and gives exactly what a --full-refresh
build gives.

The sample's transactions and contacts are each split into two deliveries; the second also
holds an exact copy and a conflicting copy of a row the first build accepted. In a table,
whose rows have no delivery order, a new conflicting copy makes the build validate every row
again (which copy is kept depends on all of them), as does a row changed in place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
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


def full_refresh_snapshot(workdir: Path, variables: dict) -> dict[str, pd.DataFrame]:
    """Rebuild everything up to the fit in workdir with --full-refresh; its compared tables."""
    run_dbt(["run", "--full-refresh", "-s", *UPSTREAM_OF_THE_FIT], workdir, variables)
    return snapshot(workdir)


def assert_same_tables(got: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    for table, frame in expected.items():
        pd.testing.assert_frame_equal(got[table], frame, check_exact=True, obj=table)


# A record DuckDB cannot parse (a field too many), at the end of a CSV delivery.
MALFORMED_LINE = "T-MALFORMED,C0000001,2026-11-02 10:00:00,books,1,10,0,store,completed,extra"


def write_delivery(directory: Path, name: str, rows: pd.DataFrame,
                   input_name: str = "transactions") -> Path:
    """rows as directory/input_name/name, Parquet or CSV by the name's suffix; a CSV delivery
    of transactions after the first also holds MALFORMED_LINE."""
    path = directory / input_name / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        rows.to_parquet(path, index=False)
    else:
        text = rows.to_csv(index=False)
        if input_name == "transactions" and not name.startswith("2026-11-01"):
            text += MALFORMED_LINE + "\n"
        path.write_text(text)
    return path


def sample_split() -> dict:
    """The sample's tables, its transactions and contacts each split in two deliveries (70%,
    30%): first, second (transactions), contacts (both parts)."""
    tables = sample_tables()
    split = {}
    for name in ("transactions", "campaign_contacts"):
        rows = tables[name]
        cut = int(len(rows) * 0.7)
        split[name] = rows.iloc[:cut], rows.iloc[cut:]
    return {"tables": tables, "first": split["transactions"][0],
            "second": split["transactions"][1], "contacts": split["campaign_contacts"],
            "customers": tables["customers"]}


@pytest.fixture(scope="module", params=["parquet", "csv"])
def deliveries(tmp_path_factory, request) -> dict:
    """A raw_data_dir with the sample's customers and campaigns and the first delivery of
    transactions and of campaign contacts (sample_split), in the format of the param; the
    second deliveries' rows."""
    suffix = request.param
    directory = tmp_path_factory.mktemp(f"deliveries_{suffix}")
    split = sample_split()
    for name in ("customers", "campaigns"):
        split["tables"][name].to_csv(directory / f"{name}.csv", index=False)
    write_delivery(directory, f"2026-11-01.{suffix}", split["first"])
    write_delivery(directory, f"2026-11-01.{suffix}", split["contacts"][0], "campaign_contacts")
    return {**split, "dir": directory, "suffix": suffix}


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
    suffix = deliveries["suffix"]
    write_delivery(deliveries["dir"], f"2026-11-02.{suffix}", second)
    first_contacts, second_contacts = deliveries["contacts"]
    contacts = query(workdir, """
        select campaign_id, customer_id from main_staging.base_campaign_contacts
        where reject_reason is null order by all limit 2""")
    keys = (first_contacts["campaign_id"].str.strip() + "|"
            + first_contacts["customer_id"].str.strip())
    exact_contact = first_contacts[keys == "|".join(contacts[0])].head(1)
    conflicting_contact = first_contacts[keys == "|".join(contacts[1])].head(1).copy()
    conflicting_contact["response_revenue"] = "97"
    write_delivery(deliveries["dir"], f"2026-11-02.{suffix}", pd.concat(
        [second_contacts, exact_contact, conflicting_contact], ignore_index=True),
        "campaign_contacts")
    incremental = run_dbt(["build"], workdir, variables)
    return {"workdir": workdir, "variables": variables, "copies": (accepted[0][0], accepted[1][0]),
            "contact_copies": (contacts[0], contacts[1]),
            "incremental_log": incremental.stdout, "tables": snapshot(workdir)}


def test_a_copy_of_an_accepted_transaction_in_a_later_file_is_rejected(daily_builds, deliveries):
    exact, conflicting = daily_builds["copies"]
    first, second = (f"2026-11-0{day}.{deliveries['suffix']}" for day in (1, 2))
    rows = query(daily_builds["workdir"], f"""
        select transaction_id, reject_reason, regexp_extract(source_file, '[^/]+$')
        from main_staging.base_transactions
        where transaction_id in ('{exact}', '{conflicting}') order by all""")
    assert sorted(rows, key=lambda row: (row[0], row[2])) == [
        (exact, None, first),
        (exact, "duplicate_transaction_id", second),
        (conflicting, None, first),
        (conflicting, "conflicting_transaction_id", second),
    ]


def test_a_copy_of_an_accepted_contact_in_a_later_file_is_rejected(daily_builds, deliveries):
    exact, conflicting = daily_builds["contact_copies"]
    first, second = (f"2026-11-0{day}.{deliveries['suffix']}" for day in (1, 2))
    rows = query(daily_builds["workdir"], f"""
        select campaign_id, customer_id, reject_reason, regexp_extract(source_file, '[^/]+$')
        from main_staging.base_campaign_contacts
        where (campaign_id, customer_id) in (('{exact[0]}', '{exact[1]}'),
                                             ('{conflicting[0]}', '{conflicting[1]}'))""")
    assert sorted(rows, key=lambda row: (row[0], row[1], row[3])) == sorted([
        (*exact, None, first),
        (*exact, "duplicate_contact", second),
        (*conflicting, None, first),
        (*conflicting, "conflicting_contact", second),
    ], key=lambda row: (row[0], row[1], row[3]))


def test_the_second_build_reads_only_the_new_file_and_retotals_only_its_customers(
        daily_builds, deliveries):
    workdir = daily_builds["workdir"]
    loads = query(workdir, """
        select regexp_extract(source_file, '[^/]+$'), count(*), count(distinct loaded_at)
        from main_staging.base_transactions group by 1 order by 1""")
    suffix = deliveries["suffix"]
    malformed = 1 if suffix == "csv" else 0
    assert loads == [(f"2026-11-01.{suffix}", len(deliveries["first"]), 1),
                     (f"2026-11-02.{suffix}", len(deliveries["second"]) + 2 + malformed, 1)]
    contact_loads = query(workdir, """
        select regexp_extract(source_file, '[^/]+$'), count(*), count(distinct loaded_at)
        from main_staging.base_campaign_contacts group by 1 order by 1""")
    first_contacts, second_contacts = deliveries["contacts"]
    assert contact_loads == [(f"2026-11-01.{suffix}", len(first_contacts), 1),
                             (f"2026-11-02.{suffix}", len(second_contacts) + 2, 1)]
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


def test_a_malformed_record_of_a_later_csv_delivery_keeps_its_file(daily_builds, deliveries):
    if deliveries["suffix"] != "csv":
        pytest.skip("Parquet has no malformed records")
    rows = query(daily_builds["workdir"], """
        select regexp_extract(source_file, '[^/]+$'), reject_reason,
            json_extract_string(raw_record, '$.raw_line')
        from main_staging.base_transactions where reject_reason like 'csv%'""")
    assert rows == [("2026-11-02.csv", "csv_too_many_columns", MALFORMED_LINE)]


def test_a_directory_of_parquet_and_csv_files_stops_the_build(deliveries, tmp_path):
    directory = tmp_path / "mixed"
    shutil.copytree(deliveries["dir"], directory)
    other = "csv" if deliveries["suffix"] == "parquet" else "parquet"
    write_delivery(directory, f"2026-11-03.{other}", deliveries["second"].head(3))
    result = run_dbt(["build", "-s", "base_transactions"], tmp_path,
                     {"raw_data_dir": str(directory)}, check=False)
    assert result.returncode != 0
    assert "transactions/ holds both Parquet and CSV files" in result.stdout


def test_the_incremental_build_equals_a_full_refresh(daily_builds, tmp_path):
    workdir = tmp_path / "full"
    shutil.copytree(daily_builds["workdir"], workdir)
    assert_same_tables(daily_builds["tables"],
                       full_refresh_snapshot(workdir, daily_builds["variables"]))


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
        full = full_refresh_snapshot(workdir, variables)
    finally:
        customers.to_csv(path, index=False)
    assert_same_tables(incremental, full)


def append_rows(workdir: Path, table: str, rows: pd.DataFrame) -> None:
    """Insert `rows` into loader.<table> of workdir's DuckDB file, as a loader would."""
    with duckdb.connect(str(workdir / "custseg.duckdb")) as con:
        con.register("delivery", rows)
        con.execute(f"insert into loader.{table} by name select * from delivery")


@pytest.fixture(scope="module")
def table_builds(tmp_path_factory) -> dict:
    """The inputs as tables of schema `loader` (var raw_schema): built with the first 70% of
    the transactions and contacts, then built again after the rest and an exact copy of an
    accepted transaction were inserted into the tables (incremental)."""
    workdir = tmp_path_factory.mktemp("table_builds")
    deliveries = sample_split()
    tables = deliveries["tables"]
    with duckdb.connect(str(workdir / "custseg.duckdb")) as con:
        con.execute("create schema loader")
        for name, rows in tables.items():
            first = deliveries["contacts"][0] if name == "campaign_contacts" else (
                deliveries["first"] if name == "transactions" else rows)
            con.register("rows", first)
            con.execute(f"create table loader.{name} as select * from rows")
            con.unregister("rows")
    variables = {"raw_schema": "loader"}
    run_dbt(["build"], workdir, variables)
    accepted = query(workdir, """
        select transaction_id from main_staging.base_transactions
        where reject_reason is null order by transaction_id limit 1""")[0][0]
    first = deliveries["first"]
    exact = first[first["transaction_id"] == accepted].head(1)
    append_rows(workdir, "transactions", pd.concat([deliveries["second"], exact]))
    append_rows(workdir, "campaign_contacts", deliveries["contacts"][1])
    incremental = run_dbt(["build"], workdir, variables)
    return {"workdir": workdir, "variables": variables, "copy": accepted,
            "incremental_log": incremental.stdout, "tables": snapshot(workdir),
            "deliveries": deliveries}


def test_a_grown_table_is_validated_only_in_its_new_rows(table_builds):
    workdir, deliveries = table_builds["workdir"], table_builds["deliveries"]
    log = table_builds["incremental_log"]
    assert "validating every row" not in log
    new_transactions = len(deliveries["second"]) + 1
    assert f"{new_transactions} new rows of" in log
    loads = query(workdir, """
        select count(*) from main_staging.base_transactions
        group by loaded_at order by loaded_at""")
    assert loads == [(len(deliveries["first"]),), (new_transactions,)]
    contact_loads = query(workdir, """
        select count(*) from main_staging.base_campaign_contacts group by loaded_at
        order by loaded_at""")
    assert contact_loads == [(len(part),) for part in deliveries["contacts"]]
    copies = query(workdir, f"""
        select reject_reason from main_staging.base_transactions
        where transaction_id = '{table_builds["copy"]}' order by loaded_at""")
    assert copies == [(None,), ("duplicate_transaction_id",)]


def test_a_grown_table_builds_what_a_full_refresh_builds(table_builds, tmp_path):
    workdir = tmp_path / "full"
    shutil.copytree(table_builds["workdir"], workdir)
    assert_same_tables(table_builds["tables"],
                       full_refresh_snapshot(workdir, table_builds["variables"]))


@pytest.mark.parametrize("change", ["conflicting copy", "row changed in place"])
def test_a_table_change_that_decides_old_rows_revalidates_every_row(
        table_builds, tmp_path, change):
    """A new row with an accepted id but other values, or an accepted row changed in place:
    every row is validated again, and the result is a full refresh's. The new copy's raw
    quantity ('0' and the old one's) sorts first, so a full build keeps it, not the old one."""
    workdir = tmp_path / "incremental"
    shutil.copytree(table_builds["workdir"], workdir)
    accepted = query(workdir, """
        select transaction_id from main_staging.base_transactions
        where reject_reason is null and quantity is not null
        order by transaction_id limit 1""")[0][0]
    with duckdb.connect(str(workdir / "custseg.duckdb")) as con:
        if change == "conflicting copy":
            con.execute(f"""
                insert into loader.transactions
                select * replace ('0' || trim(quantity) as quantity) from loader.transactions
                where trim(transaction_id) = '{accepted}' limit 1""")
        else:
            con.execute(f"""
                update loader.transactions set quantity = '0' || trim(quantity)
                where trim(transaction_id) = '{accepted}'""")
    result = run_dbt(["run", "-s", *UPSTREAM_OF_THE_FIT], workdir, table_builds["variables"])
    reason = ("share the key of an accepted row" if change == "conflicting copy"
              else "no longer in")
    assert "validating every row of transactions again" in result.stdout
    assert reason in result.stdout
    incremental = snapshot(workdir)
    assert_same_tables(incremental, full_refresh_snapshot(workdir, table_builds["variables"]))
