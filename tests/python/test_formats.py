"""The formats real exports use, through `raw_data_dir`: every planted value gets its exact outcome.

One build reads four CSV files that differ in everything a real export varies in: customers
separated by `;` and encoded in Windows-1252 (accented cities, euro signs), dates as d.m.yyyy
and incomes as `€ 45.000,00` or `$52,500.00`; transactions as the UCI Online Retail copy writes
them (`12/1/2010 8:26`, prices `$1,120.20`); campaigns tab-separated with yyyymmdd start dates
and epoch-millisecond end dates; contacts `|`-separated with CRLF line endings, ISO timestamps
with `T`, fractions and zones, and booleans in every spelling. Further builds check the cases
that stop the build (a column two formats fit, mixed line endings) and the vars that settle
them (timestamp_formats, csv_encoding).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from conftest import query, run_dbt

N_CUSTOMERS = 30


def write(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",",
          encoding: str = "utf-8", newline: str = "\n") -> None:
    """A CSV file (RFC 4180 quoting) with the given delimiter, encoding and line ending."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))


def epoch_ms(year: int, month: int, day: int) -> str:
    return str(int(datetime(year, month, day, tzinfo=UTC).timestamp() * 1000))


# customers: signup_date d.m.yyyy; income and an extra column as exports write money
CUSTOMERS = {  # customer_id: (city as written, signup_date, annual_income, spend)
    "C001": ("München", "15.03.2009", "€ 45.000,00", "$1,120.20"),
    "C002": ("Besançon", "1.12.2008", "$52,500.00", "€ 99,50"),
    "C003": ("L’Haÿ-les-Roses", "28.02.2008", "61,000", "1.234,5"),
    "C004": ("Nice", "31.31.2020", "(100)", "12"),  # no such date; a negative income
}
CUSTOMERS_EXPECTED = {  # customer_id: (city, signup_date, annual_income, spend, invalid)
    "C001": ("münchen", date(2009, 3, 15), 45000.0, 1120.2, None),
    "C002": ("besançon", date(2008, 12, 1), 52500.0, 99.5, None),
    "C003": ("l’haÿ-les-roses", date(2008, 2, 28), 61000.0, 1234.5, None),
    "C004": ("nice", None, None, 12.0, "annual_income,signup_date"),
}
# transactions: UCI Online Retail's m/d/yyyy h:mm; prices and quantities with separators
TRANSACTIONS = {  # transaction_id: (transaction_ts, quantity, unit_price, reason)
    "X1": ("12/1/2010 8:26", "6", "$1,120.20", None),
    "X2": ("12/13/2010 14:05", "1,000", "1,120.20", None),
    "X3": ("1/5/2011 9:00", "2", "£3.75", None),
    "X4": ("2/28/2011 23:59:59", "1", "2.55", None),
    "X5": ("12/2/2010 10:00", "1", "(12.50)", "invalid_unit_price"),
    "X6": ("yesterday", "1", "2.00", "invalid_transaction_ts"),
    "X7": ("13/1/2011 9:00", "1", "2.00", "invalid_transaction_ts"),  # no month 13
}
TRANSACTIONS_EXPECTED = {
    "X1": (datetime(2010, 12, 1, 8, 26), 6.0, 1120.2),
    "X2": (datetime(2010, 12, 13, 14, 5), 1000.0, 1120.2),
    "X3": (datetime(2011, 1, 5, 9, 0), 2.0, 3.75),
    "X4": (datetime(2011, 2, 28, 23, 59, 59), 1.0, 2.55),
    "X5": (datetime(2010, 12, 2, 10, 0), 1.0, -12.5),
    "X6": (None, 1.0, 2.0),
    "X7": (None, 1.0, 2.0),
}
# contacts: ISO 8601 with T, fractions and zones (as UTC); booleans in every spelling
CONTACTS = {  # customer_id: (contacted_at, responded, response_revenue)
    "C001": ("2010-12-02T10:26:00+02:00", "TRUE", "$12.50"),
    "C002": ("2010-12-02T08:26:00.5Z", " Yes ", "1,250.00"),
    "C003": ("2010-12-02 08:26:00", "n", "0"),
    "C004": ("2010-12-02T08:26:00.250", "0", "0"),
    "C005": ("2010-12-02T03:26:00-05:00", "T", "1"),
    "C006": ("2010-12-02T08:26", "f", "0"),
    "C007": ("2010-12-02", "Y", "0"),
    "C008": ("2010-12-02 08:26:00", "no", "0"),
    "C009": ("2010-12-02 08:26:00", "1", "0"),
    "C010": ("2010-12-02 08:26:00", "False", "0"),
    "C011": ("2010-12-02 08:26:00", "maybe", "0"),
}
CONTACTS_EXPECTED = {  # customer_id: (contacted_at, responded, response_revenue)
    "C001": (datetime(2010, 12, 2, 8, 26), True, 12.5),
    "C002": (datetime(2010, 12, 2, 8, 26, 0, 500000), True, 1250.0),
    "C003": (datetime(2010, 12, 2, 8, 26), False, 0.0),
    "C004": (datetime(2010, 12, 2, 8, 26, 0, 250000), False, 0.0),
    "C005": (datetime(2010, 12, 2, 8, 26), True, 1.0),
    "C006": (datetime(2010, 12, 2, 8, 26), False, 0.0),
    "C007": (datetime(2010, 12, 2, 0, 0), True, 0.0),
    "C008": (datetime(2010, 12, 2, 8, 26), False, 0.0),
    "C009": (datetime(2010, 12, 2, 8, 26), True, 0.0),
    "C010": (datetime(2010, 12, 2, 8, 26), False, 0.0),
    "C011": (datetime(2010, 12, 2, 8, 26), None, 0.0),
}


def write_formats_inputs(raw_dir: Path) -> None:
    header = ["customer_id", "signup_date", "age", "gender", "city", "membership_tier",
              "annual_income", "email", "Spend"]
    rows = [[cid, signup, "40", "f", city, "gold", income, "", spend]
            for cid, (city, signup, income, spend) in CUSTOMERS.items()]
    rows += [[f"C{i:03d}", f"{i % 28 + 1}.{i % 12 + 1}.2009", str(20 + i), "m", "Lyon",
              "silver", f"€ {30 + i}.000,00", "", f"${i},{i:03d}.00"]
             for i in range(len(CUSTOMERS) + 1, N_CUSTOMERS + 1)]
    write(raw_dir / "customers.csv", header, rows, delimiter=";", encoding="cp1252")

    header = ["transaction_id", "customer_id", "transaction_ts", "product_category",
              "quantity", "unit_price", "discount_amount", "channel", "status"]
    rows = [[tid, "C001", ts, "books", quantity, price, "$0.00", "web", "completed"]
            for tid, (ts, quantity, price, _) in TRANSACTIONS.items()]
    rows += [[f"T{i:03d}{j}", f"C{i:03d}", f"{1 + (i + j) % 12}/{1 + i % 28}/2011 {i % 24}:05",
              "toys" if j else "garden", str(1 + j), f"${i + 5},{j}00.50", "0", "web",
              "completed"]
             for i in range(2, N_CUSTOMERS + 1) for j in range(1 + i % 3)]
    write(raw_dir / "transactions.csv", header, rows)

    write(raw_dir / "campaigns.csv",
          ["campaign_id", "campaign_name", "channel", "offer_type", "start_date", "end_date"],
          [["CMP1", "Winter", "email", "discount", "20101201", epoch_ms(2010, 12, 31)],
           ["CMP2", "Sales", "sms", "bogo", "20110105", epoch_ms(2011, 1, 31)]],
          delimiter="\t")

    write(raw_dir / "campaign_contacts.csv",
          ["campaign_id", "customer_id", "contacted_at", "responded", "response_revenue"],
          [["CMP1", cid, *values] for cid, values in CONTACTS.items()],
          delimiter="|", newline="\r\n")


@pytest.fixture(scope="module")
def formats_build(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("formats")
    raw_dir = workdir / "input"
    raw_dir.mkdir()
    write_formats_inputs(raw_dir)
    run_dbt(["build"], workdir, {"raw_data_dir": str(raw_dir), "n_segments": 3})
    return workdir


def test_every_file_is_read_in_its_own_delimiter_and_encoding(formats_build):
    counts = dict(query(formats_build, "select source, count(*) from stg_rejects group by 1"))
    # only the planted bad values are rejected: no row lost to a delimiter or an encoding
    assert counts == {"transactions": 3, "campaign_contacts": 1}
    for model, rows in [("stg_customers", N_CUSTOMERS), ("stg_campaigns", 2),
                        ("stg_campaign_contacts", len(CONTACTS) - 1)]:
        assert query(formats_build, f"select count(*) from {model}") == [(rows,)]


def test_customer_dates_money_and_accents(formats_build):
    rows = query(formats_build, "select customer_id, city, signup_date, annual_income, spend, "
                                "invalid_attributes from stg_customers where customer_id in "
                                "('C001', 'C002', 'C003', 'C004') order by 1")
    assert {row[0]: row[1:] for row in rows} == CUSTOMERS_EXPECTED
    # the extra money column is a numeric attribute, so a feature
    assert query(formats_build, "select count(*) from segment_feature_profiles "
                                "where feature = 'spend'") == [(3,)]
    assert query(formats_build, "select annual_income, spend from stg_customers "
                                "where customer_id = 'C012'") == [(42000.0, 12012.0)]


def test_uci_timestamps_and_prices(formats_build):
    rows = query(formats_build, "select transaction_id, transaction_ts, quantity, unit_price, "
                                "reject_reason from base_transactions "
                                "where transaction_id like 'X%' order by 1")
    assert {row[0]: row[1:4] for row in rows} == TRANSACTIONS_EXPECTED
    assert {row[0]: row[4] for row in rows} == {
        tid: reason for tid, (*_, reason) in TRANSACTIONS.items()}
    assert query(formats_build, "select min(unit_price), max(unit_price) from stg_transactions "
                                "where transaction_id like 'T%'") == [(7000.5, 35000.5)]


def test_compact_and_epoch_dates(formats_build):
    assert query(formats_build, "select campaign_id, start_date, end_date from stg_campaigns "
                                "order by 1") == [
        ("CMP1", date(2010, 12, 1), date(2010, 12, 31)),
        ("CMP2", date(2011, 1, 5), date(2011, 1, 31))]


def test_iso_zones_and_booleans(formats_build):
    rows = query(formats_build, "select customer_id, contacted_at, responded, response_revenue, "
                                "reject_reason from base_campaign_contacts order by 1")
    assert {row[0]: row[1:4] for row in rows if row[4] is None} == {
        cid: values for cid, values in CONTACTS_EXPECTED.items() if cid != "C011"}
    assert [(row[0], row[4]) for row in rows if row[4]] == [("C011", "invalid_responded")]


def ambiguous_inputs(raw_dir: Path, customers_encoding: str = "utf-8") -> None:
    """Transactions whose days are all 12 or less (m/d and d/m both parse every value)."""
    write(raw_dir / "customers.csv", ["customer_id", "signup_date", "city"],
          [[f"C{i:03d}", f"{13 + i}/{1 + i % 12}/2020", "Orléans"] for i in range(1, 13)],
          encoding=customers_encoding)
    write(raw_dir / "transactions.csv",
          ["transaction_id", "customer_id", "transaction_ts", "unit_price"],
          [[f"T{i:03d}", f"C{i:03d}", f"{i}/{13 - i}/2011 10:{i:02d}", "5"]
           for i in range(1, 13)])
    write(raw_dir / "campaigns.csv", ["campaign_id", "start_date", "end_date"],
          [["CMP1", "1291191960", "2010-12-31"], ["CMP2", "1291191960.5", ""]])


def test_a_column_two_formats_fit_stops_the_build_naming_the_var(tmp_path):
    raw_dir = tmp_path / "input"
    raw_dir.mkdir()
    ambiguous_inputs(raw_dir)
    result = run_dbt(["build", "--select", "+base_transactions"], tmp_path,
                     {"raw_data_dir": str(raw_dir)}, check=False)
    assert result.returncode != 0
    lines = [line for line in result.stdout.splitlines() if "transactions.transaction_ts" in line]
    assert len({line.strip() for line in lines}) == 1, result.stdout[-3000:]  # one message
    assert "mdy, dmy" in lines[0] and "timestamp_formats" in lines[0]
    assert "'%m/%d/%Y %H:%M'" in lines[0] and "'%d/%m/%Y %H:%M'" in lines[0]


def test_timestamp_formats_and_csv_encoding_vars_settle_it(tmp_path):
    raw_dir = tmp_path / "input"
    raw_dir.mkdir()
    ambiguous_inputs(raw_dir, customers_encoding="latin-1")
    run_dbt(["run", "--select", "+stg_transactions", "+stg_campaigns", "stg_customers"], tmp_path, {
        "raw_data_dir": str(raw_dir), "csv_encoding": "latin-1",
        # the column as a header might spell it: normalised as headers are
        "timestamp_formats": {"transactions": {"Transaction TS": "%d/%m/%Y %H:%M"}}})
    assert query(tmp_path, "select transaction_id, transaction_ts from stg_transactions "
                           "where transaction_id in ('T001', 'T012') order by 1") == [
        ("T001", datetime(2011, 12, 1, 10, 1)), ("T012", datetime(2011, 1, 12, 10, 12))]
    # detected beside it: d/m/yyyy (days above 12), epoch seconds; Latin-1 by the var
    assert query(tmp_path, "select signup_date, city from stg_customers "
                           "where customer_id = 'C001'") == [(date(2020, 2, 14), "orléans")]
    assert query(tmp_path, "select campaign_id, start_date, end_date from stg_campaigns "
                           "order by 1") == [("CMP1", date(2010, 12, 1), date(2010, 12, 31)),
                                             ("CMP2", date(2010, 12, 1), None)]


def test_mixed_line_endings_stop_the_build_naming_the_cause(tmp_path):
    raw_dir = tmp_path / "input"
    raw_dir.mkdir()
    (raw_dir / "customers.csv").write_bytes(b"customer_id,city\r\nC001,Lyon\nC002,Nice\r\n")
    result = run_dbt(["build", "--select", "base_customers"], tmp_path,
                     {"raw_data_dir": str(raw_dir)}, check=False)
    assert result.returncode != 0
    assert "mixes line endings: 2 lines end in CRLF" in result.stdout
    assert "state machine" not in result.stdout
    assert "Compilation Error" not in result.stdout  # the data's error, not the code's


def test_a_header_two_delimiters_fit_stops_the_build_naming_the_var(tmp_path):
    raw_dir = tmp_path / "input"
    raw_dir.mkdir()
    (raw_dir / "customers.csv").write_bytes(b"customer_id;city,region\nC001;Lyon,ARA\n")
    result = run_dbt(["build", "--select", "base_customers"], tmp_path,
                     {"raw_data_dir": str(raw_dir)}, check=False)
    assert result.returncode != 0
    assert "its header holds as many of , and ; (1 each): set var csv_delimiter" in result.stdout


def test_each_file_is_sniffed_once_per_node_that_reads_it(formats_build):
    """A CSV input's dialect (delimiter, encoding, line endings: one scan of the whole file)
    is read once per node: base_<input> (compiling it and rendering its pre-hook share what
    they read) and the raw-row reconciliation test; several macros of a model asked for it,
    and each scanned the file again (customers 6 times in compiling base_customers alone)."""
    log = (formats_build / "logs" / "dbt.log").read_text(encoding="utf-8")
    probes = re.findall(r"file_bytes as \(\s+select.*?from read_blob\('([^']+)'\)", log, re.S)
    counts = {Path(path).name: probes.count(path) for path in set(probes)}
    assert counts == {name: 2 for name in ("customers.csv", "transactions.csv", "campaigns.csv",
                                           "campaign_contacts.csv")}
