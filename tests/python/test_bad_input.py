"""Bad input through `raw_data_dir`: every raw record is accepted or quarantined with its reason.

The fixture writes the four inputs as CSV files holding every kind of bad record the staging
models know: records DuckDB cannot parse (wrong field count, broken quoting, bytes that are not
UTF-8, an over-long line), missing, duplicate, conflicting and orphan ids, non-positive
quantities and prices, absurd attributes, unparseable, future and pre-1900 timestamps, unknown
statuses and categories. Each written record carries the outcome it must get, so the
assertions compare the build against what was written, reason by reason, record by record.
A second build reads typed Parquet files (no CSV-level defects there, but typed timestamps and
numbers that staging must validate the same way).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import query, run_dbt

CONTRACT = {
    # beyond the contract: a numeric attribute and three columns of personal data
    "customers": ["customer_id", "signup_date", "age", "gender", "city", "membership_tier",
                  "annual_income", "email", "loyalty_points", "phone", "first_name",
                  "street_address"],
    "transactions": ["transaction_id", "customer_id", "transaction_ts", "product_category",
                     "quantity", "unit_price", "discount_amount", "channel", "status"],
    "campaigns": ["campaign_id", "campaign_name", "channel", "offer_type", "start_date",
                  "end_date"],
    "campaign_contacts": ["campaign_id", "customer_id", "contacted_at", "responded",
                          "response_revenue"],
}
GOOD_CUSTOMERS = 40
# Over DuckDB's default max_line_size (2,000,000 bytes).
LONG_TEXT = "x" * 2_100_000


@dataclass
class Record:
    """One raw record and the outcome staging must give it (reason None = accepted)."""

    reason: str | None
    values: list[str] | None = None  # a well-formed record, one text per header column
    raw: bytes | None = None  # a malformed record, written as these bytes plus a newline
    invalid_attributes: str | None = None  # for accepted customers with cleaned values


@dataclass
class InputFile:
    """A CSV input: the header and the records in file order."""

    header: list[str]
    records: list[Record] = field(default_factory=list)

    def add(self, reason: str | None, values: dict[str, str], **extra) -> None:
        self.records.append(Record(reason, [values.get(c, "") for c in self.header], **extra))

    def add_raw(self, reason: str, raw: bytes) -> None:
        self.records.append(Record(reason, raw=raw))

    def to_bytes(self) -> bytes:
        lines = [csv_line(self.header)]
        lines += [record.raw if record.raw is not None else csv_line(record.values)
                  for record in self.records]
        return b"\n".join(lines) + b"\n"


def escaped(raw: bytes) -> str:
    """How DuckDB writes bytes as text: printable ASCII as is, any other byte as \\xNN."""
    return "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02X}" for b in raw)


def csv_line(values: list[str]) -> bytes:
    """One RFC 4180 line (quotes only where needed), UTF-8, no line break."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue().encode()


def customers_file() -> InputFile:
    file = InputFile(CONTRACT["customers"])
    for i in range(1, GOOD_CUSTOMERS + 1):
        file.add(None, {"customer_id": f"C{i:03d}", "signup_date": f"2022-{i % 12 + 1:02d}-15",
                        "age": str(20 + i), "gender": "f" if i % 2 else "m",
                        # one UTF-8 accent: the file is UTF-8 with one bad record, not Latin-1
                        "city": "Zürich" if i == 2 else "Lyon",
                        "membership_tier": "gold", "annual_income": str(30_000 + 1_000 * i),
                        "email": f"c{i}@example.com", "loyalty_points": str(10 * i),
                        "phone": f"06{i:08d}", "first_name": f"Name{i}",
                        "street_address": f"{i} rue Neuve"})
    base = {"signup_date": "2023-01-01", "age": "40", "city": "Nice", "annual_income": "50000",
            "email": "x@example.com", "loyalty_points": "5"}
    # cleaned and accepted: absurd or unparseable attributes become null and are named
    file.add(None, {**base, "customer_id": "C101", "age": "250"}, invalid_attributes="age")
    file.add(None, {**base, "customer_id": "C102", "annual_income": "-5"},
             invalid_attributes="annual_income")
    file.add(None, {**base, "customer_id": "C103", "age": "forty", "annual_income": "lots"},
             invalid_attributes="age,annual_income")
    file.add(None, {**base, "customer_id": "C104", "signup_date": "1850-01-01"},
             invalid_attributes="signup_date")
    file.add(None, {**base, "customer_id": "C105", "signup_date": "2999-01-01"},
             invalid_attributes="signup_date")
    file.add(None, {**base, "customer_id": "C106", "signup_date": "31/31/2020"},
             invalid_attributes="signup_date")
    file.add(None, {**base, "customer_id": "C107", "gender": "Unknown-Value",
                    "membership_tier": "Diamond Plus"})
    # numbers that parse as doubles but are not finite: null and named, like unparseable ones
    file.add(None, {**base, "customer_id": "C108", "age": "NaN"}, invalid_attributes="age")
    file.add(None, {**base, "customer_id": "C109", "annual_income": "1e400"},
             invalid_attributes="annual_income")
    file.add(None, {**base, "customer_id": "C110", "annual_income": "inf",
                    "loyalty_points": "nan"}, invalid_attributes="annual_income,loyalty_points")
    # rejected rows
    file.add("missing_customer_id", {**base, "customer_id": ""})
    file.add("missing_customer_id", {**base, "customer_id": "   "})
    first = dict(zip(file.header, file.records[0].values, strict=True))
    file.add("duplicate_customer_id", first)
    # same id, other city and no email: less complete, so the original is kept
    file.add("conflicting_customer_id", {**first, "city": "Paris", "email": ""})
    # records DuckDB cannot parse
    tail = b",gold,1,a@b.c,1,0600000000,Ann,1 rue Neuve"
    file.add_raw("csv_too_many_columns", b"C201,2023-01-01,30,f,Lyon" + tail + b",surplus")
    file.add_raw("csv_missing_columns", b"C202,2023-01-01,30")
    file.add_raw("csv_invalid_encoding", b"C203,2023-01-01,30,f,M\xfcnchen" + tail)
    file.add_raw("csv_bad_quoting", b'C204,2023-01-01,30,f,"Ly"on' + tail)
    # an unterminated quote runs to the end of the file: it must be the last record
    file.add_raw("csv_bad_quoting", b'C205,2023-01-01,30,f,"Lyon' + tail)
    return file


def transactions_file() -> InputFile:
    file = InputFile(CONTRACT["transactions"])
    number = 0
    for i in range(1, GOOD_CUSTOMERS + 1):
        for j in range(1 + i % 4):
            number += 1
            file.add(None, {"transaction_id": f"T{number:05d}", "customer_id": f"C{i:03d}",
                            "transaction_ts": f"2025-{(i + j) % 12 + 1:02d}-10 12:00:00",
                            "product_category": ["books", "toys", "garden"][(i + j) % 3],
                            "quantity": str(1 + j), "unit_price": f"{5 + i}.50",
                            "discount_amount": "0" if i % 3 else "1.5",
                            # one UTF-8 accent, as in customers: the bad record stays a reject
                            "channel": "téléphone" if number == 3 else "web",
                            "status": "returned" if (i + j) % 9 == 0 else "completed"})
    base = {"customer_id": "C001", "transaction_ts": "2025-05-05 10:00:00",
            "product_category": "books", "quantity": "1", "unit_price": "10", "channel": "web",
            "status": "completed"}
    bad = [
        ("missing_transaction_id", {"transaction_id": ""}),
        ("missing_customer_id", {"customer_id": ""}),
        ("invalid_transaction_ts", {"transaction_ts": "yesterday"}),
        ("invalid_transaction_ts", {"transaction_ts": ""}),
        ("future_transaction_ts", {"transaction_ts": "2999-01-01 10:00:00"}),
        ("too_old_transaction_ts", {"transaction_ts": "1850-06-01 10:00:00"}),
        ("too_old_transaction_ts", {"transaction_ts": "1899-12-31 23:59:59"}),
        ("invalid_quantity", {"quantity": "0"}),
        ("invalid_quantity", {"quantity": "-2"}),
        ("invalid_quantity", {"quantity": "two"}),
        ("invalid_unit_price", {"unit_price": "0"}),
        ("invalid_unit_price", {"unit_price": "-5.5"}),
        ("invalid_unit_price", {"unit_price": "ten"}),
        ("invalid_discount", {"discount_amount": "-1"}),
        ("invalid_discount", {"discount_amount": "11"}),
        # not finite (DuckDB and Spark parse these as doubles above every number)
        ("invalid_quantity", {"quantity": "NaN"}),
        ("invalid_quantity", {"quantity": "inf"}),
        ("invalid_unit_price", {"unit_price": "Infinity"}),
        ("invalid_unit_price", {"unit_price": "1e400"}),
        ("invalid_unit_price", {"unit_price": "-inf"}),
        ("invalid_discount", {"discount_amount": "nan"}),
        ("invalid_discount", {"discount_amount": "inf"}),
        ("invalid_status", {"status": "lost_in_post"}),
        ("orphan_customer_id", {"customer_id": "C999"}),
        # its customer is in a record DuckDB could not parse: not an accepted customer
        ("orphan_customer_id", {"customer_id": "C201"}),
    ]
    for n, (reason, change) in enumerate(bad):
        file.add(reason, {**base, "transaction_id": f"TB{n:03d}", **change})
    # cleaned and accepted: unknown and malformed categories become 'unknown'
    file.add(None, {**base, "transaction_id": "TU001", "product_category": "!!??"})
    file.add(None, {**base, "transaction_id": "TU002", "product_category": "N/A"})
    first, second = (dict(zip(file.header, r.values, strict=True)) for r in file.records[:2])
    file.add("duplicate_transaction_id", first)
    file.add("conflicting_transaction_id", {**second, "quantity": "7"})
    file.add("conflicting_transaction_id", {**second, "status": "returned"})
    file.add_raw("csv_too_many_columns", b"TM1,C001,2025-01-01,books,1,2,0,web,completed,x")
    file.add_raw("csv_missing_columns", b"TM2,C001")
    file.add_raw("csv_invalid_encoding",
                 b"TM3,C001,2025-01-01,livres \xe9t\xe9,1,2,0,web,completed")
    file.add_raw("csv_bad_quoting", b'TM4,C001,2025-01-01,"books"s,1,2,0,web,completed')
    return file


def campaigns_file() -> InputFile:
    file = InputFile(CONTRACT["campaigns"])
    file.add(None, {"campaign_id": "CMP1", "campaign_name": "Spring", "channel": "email",
                    "offer_type": "discount", "start_date": "2025-03-01",
                    "end_date": "2025-03-31"})
    file.add(None, {"campaign_id": "CMP2", "campaign_name": "Autumn", "channel": "sms",
                    "offer_type": "bogo", "start_date": "2025-09-01", "end_date": "2025-09-30"})
    base = dict(zip(file.header, file.records[0].values, strict=True))
    file.add("missing_campaign_id", {**base, "campaign_id": ""})
    file.add("invalid_start_date", {**base, "campaign_id": "CMP3", "start_date": "soon"})
    file.add("invalid_start_date", {**base, "campaign_id": "CMP4", "start_date": "1066-10-14"})
    file.add("invalid_end_date", {**base, "campaign_id": "CMP5", "end_date": "2025-02-30"})
    file.add("invalid_date_range", {**base, "campaign_id": "CMP6", "end_date": "2025-02-01"})
    file.add("duplicate_campaign_id", base)
    file.add("conflicting_campaign_id", {**base, "campaign_name": "Spring (copy)"})
    file.add_raw("csv_line_too_long", f"CMPL,{LONG_TEXT},email,bogo,2025-01-01,2025-01-02".encode())
    file.add_raw("csv_too_many_columns", b"CMPM,a,email,bogo,2025-01-01,2025-01-02,extra")
    return file


def contacts_file() -> InputFile:
    file = InputFile(CONTRACT["campaign_contacts"])
    for i in range(1, 11):
        file.add(None, {"campaign_id": "CMP1" if i % 2 else "CMP2", "customer_id": f"C{i:03d}",
                        "contacted_at": "2025-03-02 09:00:00",
                        "responded": "yes" if i % 3 else "no",
                        "response_revenue": "12.5" if i % 3 else "0"})
    base = {"campaign_id": "CMP1", "contacted_at": "2025-03-02 09:00:00", "responded": "no",
            "response_revenue": "0"}
    bad = [
        ("missing_campaign_id", {"campaign_id": ""}),
        ("missing_customer_id", {"customer_id": ""}),
        ("invalid_contacted_at", {"contacted_at": "at lunch"}),
        ("invalid_contacted_at", {"contacted_at": "1800-01-01 00:00:00"}),
        ("invalid_contacted_at", {"contacted_at": "2999-01-01 00:00:00"}),
        ("invalid_responded", {"responded": "maybe"}),
        ("invalid_response_revenue", {"response_revenue": "-3"}),
        ("invalid_response_revenue", {"response_revenue": "lots"}),
        ("invalid_response_revenue", {"response_revenue": "nan"}),
        ("invalid_response_revenue", {"response_revenue": "1e400"}),
        ("orphan_campaign_id", {"campaign_id": "CMP3"}),  # its campaign row was rejected
        ("orphan_customer_id", {"customer_id": "C999"}),
    ]
    for n, (reason, change) in enumerate(bad):
        file.add(reason, {**base, "customer_id": f"C{20 + n:03d}", **change})
    first, second = (dict(zip(file.header, r.values, strict=True)) for r in file.records[:2])
    file.add("duplicate_contact", first)
    file.add("conflicting_contact", {**second, "response_revenue": "99"})
    file.add_raw("csv_missing_columns", b"CMP1,C030,2025-03-02")
    return file


def bad_inputs() -> dict[str, InputFile]:
    return {"customers": customers_file(), "transactions": transactions_file(),
            "campaigns": campaigns_file(), "campaign_contacts": contacts_file()}


@pytest.fixture(scope="module")
def csv_build(tmp_path_factory) -> tuple[Path, dict[str, InputFile]]:
    workdir = tmp_path_factory.mktemp("bad_csv")
    raw_dir = workdir / "input"
    raw_dir.mkdir()
    inputs = bad_inputs()
    for name, file in inputs.items():
        (raw_dir / f"{name}.csv").write_bytes(file.to_bytes())
    run_dbt(["build"], workdir, {"raw_data_dir": str(raw_dir), "n_segments": 3})
    return workdir, inputs


def rejects(workdir: Path, source: str) -> list[tuple[str, dict]]:
    rows = query(workdir, "select reject_reason, raw_record from stg_rejects "
                          f"where source = '{source}'")
    return [(reason, json.loads(record)) for reason, record in rows]


def expected_raw_record(header: list[str], record: Record) -> dict:
    """What stg_rejects keeps of a well-formed record: every column, empty fields as null."""
    return {column: value if value != "" else None
            for column, value in zip(header, record.values, strict=True)}


@pytest.mark.parametrize("source", list(CONTRACT))
def test_every_record_is_accepted_or_rejected_with_its_reason(csv_build, source):
    workdir, inputs = csv_build
    file = inputs[source]
    written = Counter(record.reason for record in file.records)
    # the file really holds this many records: header + one line each
    lines = (workdir / "input" / f"{source}.csv").read_bytes().rstrip(b"\n").split(b"\n")
    assert len(lines) - 1 == len(file.records) == written.total()
    (accepted,), = query(workdir, f"select count(*) from stg_{source}")
    rejected = Counter(reason for reason, _ in rejects(workdir, source))
    assert accepted == written[None]
    assert rejected == written - Counter({None: written[None]})
    assert accepted + rejected.total() == len(file.records)
    summary = dict(query(workdir, "select coalesce(reason, 'accepted'), rows "
                                  f"from data_quality_summary where source = '{source}'"))
    assert summary == {"accepted": written[None], **rejected}


@pytest.mark.parametrize("source", list(CONTRACT))
def test_each_rejected_record_keeps_its_raw_content(csv_build, source):
    workdir, inputs = csv_build
    file = inputs[source]
    kept = rejects(workdir, source)
    parsed = Counter((reason, json.dumps(record, sort_keys=True)) for reason, record in kept
                     if not reason.startswith("csv_"))
    assert parsed == Counter(
        (record.reason, json.dumps(expected_raw_record(file.header, record), sort_keys=True))
        for record in file.records if record.reason and record.raw is None)
    malformed = {record["line_number"]: (reason, record) for reason, record in kept
                 if reason.startswith("csv_")}
    for line_number, record in enumerate(file.records, start=2):  # line 1 is the header
        if record.raw is None:
            continue
        reason, kept_record = malformed.pop(line_number)
        assert reason == record.reason
        assert kept_record["error_message"]
        # an unterminated quote's record runs to the end of the file, final line break included
        raw_line = kept_record["raw_line"].removesuffix("\n")
        if reason == "csv_invalid_encoding":  # exact bytes, the bad ones escaped
            assert raw_line == escaped(record.raw)
        elif reason == "csv_line_too_long":  # DuckDB keeps the first 10,000 characters
            assert len(raw_line) == 10_000 and record.raw.decode().startswith(raw_line)
        else:
            assert raw_line == record.raw.decode()
    assert malformed == {}


def test_cleaned_values_are_accepted_and_named(csv_build):
    workdir, inputs = csv_build
    expected = {record.values[0]: record.invalid_attributes
                for record in inputs["customers"].records if record.invalid_attributes}
    rows = dict(query(workdir, "select customer_id, invalid_attributes from stg_customers "
                               "where invalid_attributes is not null"))
    assert rows == expected
    assert query(workdir, "select customer_id, age, annual_income, signup_date "
                          "from stg_customers where customer_id in ('C101', 'C102', 'C104') "
                          "order by customer_id") == [
        ("C101", None, 50000.0, date(2023, 1, 1)),
        ("C102", 40, None, date(2023, 1, 1)),
        ("C104", 40, 50000.0, None),
    ]
    # unknown text values are kept as lowercase text; malformed categories become 'unknown'
    assert query(workdir, "select gender, membership_tier from stg_customers "
                          "where customer_id = 'C107'") == [("unknown-value", "diamond plus")]
    assert query(workdir, "select product_category from stg_transactions "
                          "where transaction_id like 'TU%' order by 1") == [
        ("unknown",), ("unknown",)]


def non_finite(value: object) -> int:
    """How many floating-point numbers in a value (nested in lists, structs, maps) are NaN or
    infinite."""
    if isinstance(value, float):
        return 0 if math.isfinite(value) else 1
    if isinstance(value, dict):
        return sum(non_finite(item) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(non_finite(item) for item in value)
    return 0


def test_no_model_holds_a_nan_or_an_infinity(csv_build):
    """Every floating-point value of every table and view the build made is finite or null
    (the planted NaN, inf and 1e400 values stay in the rejects' raw text only): the
    floating-point columns, and those nested in lists, structs and maps (the fit's run
    history, the extra attributes of dim_customer_segments)."""
    workdir, _ = csv_build
    with duckdb.connect(str(workdir / "custseg.duckdb"), read_only=True) as con:
        columns = con.sql("""
            select table_schema, table_name, column_name,
                data_type in ('DOUBLE', 'FLOAT', 'REAL') or data_type like 'DECIMAL%' as flat
            from information_schema.columns
            where regexp_matches(data_type, '(DOUBLE|FLOAT|REAL|DECIMAL)')
        """).fetchall()
        found = {(table, column): con.sql(
            f'select count(*) from "{schema}"."{table}" where not isfinite("{column}")'
        ).fetchall()[0][0] if flat else sum(non_finite(value) for (value,) in con.sql(
            f'select "{column}" from "{schema}"."{table}"').fetchall())
            for schema, table, column, flat in columns}
    assert len(found) > 50 and {"base_transactions", "stg_customers", "dim_customer_segments",
                                "segment_feature_histograms"} <= {t for t, _ in found}
    assert {("segment_model", "centroids"), ("segment_model", "k_metrics"),
            ("dim_customer_segments", "extra_numeric_attributes")} <= set(found)
    assert {key: count for key, count in found.items() if count} == {}


def test_conflicting_duplicates_keep_the_first_valid_copy(csv_build):
    workdir, inputs = csv_build
    # C001: the most complete copy; T00002: the first valid copy by its raw values
    assert query(workdir, "select city, has_email from stg_customers "
                          "where customer_id = 'C001'") == [("lyon", True)]
    assert query(workdir, "select quantity, status from stg_transactions "
                          "where transaction_id = 'T00002'") == [(2.0, "completed")]
    # nothing downstream sees a rejected record
    (customers,), = query(workdir, "select count(*) from dim_customer_segments")
    assert customers == sum(r.reason is None for r in inputs["customers"].records)


# Personal data a model outside staging must never carry, whatever its exact column name.
PII_NAME_PARTS = ("email", "phone", "first_name", "street", "address")


def test_personal_data_never_leaves_staging(csv_build):
    workdir, _ = csv_build
    manifest = json.loads((workdir / "target" / "manifest.json").read_text())
    downstream = sorted(node["alias"] for node in manifest["nodes"].values()
                        if node["resource_type"] in ("model", "snapshot")
                        and node["config"]["materialized"] != "ephemeral"  # no table to scan
                        and not node["original_file_path"].startswith("models/staging/"))
    assert "int_customer_features" in downstream and "dim_customer_segments" in downstream
    names = ", ".join(f"'{name}'" for name in downstream)
    columns = query(workdir, "select table_name, column_name from information_schema.columns "
                             f"where table_name in ({names})")
    assert {table for table, _ in columns} == set(downstream)  # every one was scanned
    leaked = [(table, column) for table, column in columns if column != "has_email"
              and any(part in column.lower() for part in PII_NAME_PARTS)]
    assert leaked == []
    # the all-digit phone column is not mistaken for a numeric attribute (a feature)
    features = {row[0] for row in query(workdir, "select distinct feature "
                                                 "from segment_feature_profiles")}
    assert "loyalty_points" in features and "phone" not in features
    # staging still has them, for the rejects: nothing lost
    assert query(workdir, "select count(*) from stg_rejects where raw_record like "
                          "'%\"phone\":\"06%' and raw_record like '%\"first_name\":%'") == [(2,)]


@pytest.fixture(scope="module")
def parquet_build(tmp_path_factory) -> tuple[Path, dict[str, InputFile]]:
    """Typed Parquet inputs: timestamps and numbers as their own types, no CSV defects."""
    workdir = tmp_path_factory.mktemp("bad_parquet")
    raw_dir = workdir / "input"
    raw_dir.mkdir()
    inputs = {"customers": customers_file(), "transactions": transactions_file()}
    with duckdb.connect() as con:
        for name, file in inputs.items():
            # typed columns cannot hold unparseable text: those records are left out
            file.records = [r for r in file.records if r.raw is None and not (
                name == "transactions" and {r.values[2], r.values[4], r.values[5]}
                & {"yesterday", "two", "ten"})]
            text = raw_dir / f"{name}.csv"
            text.write_bytes(file.to_bytes())
            source = f"select * from read_csv('{text}', all_varchar = true, header = true)"
            if name == "transactions":
                source = f"""select transaction_id, customer_id,
                    cast(transaction_ts as timestamp) as transaction_ts, product_category,
                    cast(quantity as double) as quantity,
                    cast(unit_price as double) as unit_price,
                    cast(discount_amount as double) as discount_amount, channel, status
                    from ({source})"""
            con.execute(f"copy ({source}) to '{raw_dir / name}.parquet' (format parquet)")
            text.unlink()
    run_dbt(["build"], workdir, {"raw_data_dir": str(raw_dir), "n_segments": 3})
    return workdir, inputs


@pytest.mark.parametrize("source", ["customers", "transactions"])
def test_typed_parquet_records_get_the_same_reasons(parquet_build, source):
    workdir, inputs = parquet_build
    written = Counter(record.reason for record in inputs[source].records)
    (accepted,), = query(workdir, f"select count(*) from stg_{source}")
    rejected = Counter(reason for reason, _ in rejects(workdir, source))
    assert accepted == written[None]
    assert rejected == written - Counter({None: written[None]})
    if source == "transactions":
        # typed timestamps are validated like text ones
        assert rejected["too_old_transaction_ts"] == 2 and rejected["future_transaction_ts"] == 1
