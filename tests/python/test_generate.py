"""The synthetic-data generator: determinism, the committed seeds, behaviours and defects."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from custseg.generate import (
    BEHAVIOURS,
    CATEGORIES,
    CITIES,
    CONTACT_EXTRA_ROW_RATES,
    CUSTOMER_EXTRA_ROW_RATES,
    CUSTOMER_INVALID_RATES,
    CUSTOMER_NULL_RATES,
    MESSY_TEXT_RATE,
    TABLES,
    TRANSACTION_DEFECT_RATES,
    TRANSACTION_DUPLICATE_RATE,
    UNKNOWN_CATEGORY_RATE,
    WINDOW_END,
    WINDOW_START,
    _customer_id_format,
    _orphan_pool,
    generate,
    main,
    render_sql,
    write_sample_seeds,
)

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
SAMPLE_CUSTOMERS, SAMPLE_TRANSACTIONS = 3000, 60000
ALL_FILES = (*TABLES, "latent_labels")

COLUMNS = {
    "customers": ["customer_id", "signup_date", "age", "gender", "city", "membership_tier",
                  "annual_income", "email", "loyalty_points"],
    "transactions": ["transaction_id", "customer_id", "transaction_ts", "product_category",
                     "quantity", "unit_price", "discount_amount", "channel", "status"],
    "campaigns": ["campaign_id", "campaign_name", "channel", "offer_type", "start_date",
                  "end_date"],
    "campaign_contacts": ["campaign_id", "customer_id", "contacted_at", "responded",
                          "response_revenue"],
    "latent_labels": ["customer_id", "behaviour"],
}

CATEGORY_LIST = ", ".join(f"'{name}'" for name, _ in CATEGORIES)
CITY_LIST = ", ".join(f"'{city}'" for city in CITIES)
LOWER_CITY_LIST = ", ".join(f"'{city.lower()}'" for city in CITIES)


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out, SAMPLE_CUSTOMERS, SAMPLE_TRANSACTIONS, seed=42, fmt="csv")
    return out


@pytest.fixture(scope="module")
def con(sample_dir):
    """The sample's files as all-text views, read like the staging layer reads them."""
    connection = duckdb.connect()
    for name in ALL_FILES:
        path = sample_dir / f"{name}.csv"
        connection.execute(
            f"create view {name} as select * from read_csv('{path}', header = true, "
            "all_varchar = true)"
        )
    # One clean row per valid transaction, for the behaviour checks.
    connection.execute("""
        create view clean_transactions as
        select distinct on (transaction_id)
            transaction_id,
            customer_id,
            cast(transaction_ts as timestamp) as ts,
            cast(quantity as integer) * cast(unit_price as double)
                - cast(discount_amount as double) as net,
            cast(discount_amount as double)
                / (cast(quantity as integer) * cast(unit_price as double)) as discount_share,
            lower(trim(status)) as status,
            lower(trim(product_category)) as category
        from transactions
        where transaction_id is not null
            and try_cast(transaction_ts as timestamp) < timestamp '2030-01-01'
            and cast(quantity as integer) > 0
            and cast(unit_price as double) > 0
            and cast(discount_amount as double) >= 0
            and lower(trim(status)) in ('completed', 'returned', 'cancelled')
            and customer_id in (select customer_id from latent_labels)
        order by transaction_id
    """)
    connection.execute("""
        create view per_customer as
        select
            labels.behaviour,
            labels.customer_id,
            count(tx.transaction_id) as orders,
            count(case when tx.status = 'completed' then 1 end) as completed,
            median(case when tx.status = 'completed' then tx.net end) as order_value,
            date '2026-10-31' - cast(max(tx.ts) as date) as recency_days,
            min(tx.ts) as first_ts,
            avg(tx.discount_share) as discount_share,
            avg(case when tx.status = 'returned' then 1.0 else 0 end) as return_rate,
            count(distinct tx.category) as categories
        from latent_labels as labels
        left join clean_transactions as tx using (customer_id)
        group by all
    """)
    yield connection
    connection.close()


def _scalar(con, sql: str):
    return con.sql(sql).fetchall()[0][0]


def test_same_arguments_give_byte_identical_files_whatever_the_threads(tmp_path):
    generate(tmp_path / "one", 1500, 30000, seed=7, threads=1)
    generate(tmp_path / "two", 1500, 30000, seed=7, threads=2)
    first, second = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert sorted(first) == sorted(f"{name}.csv" for name in ALL_FILES)
    assert first == second
    generate(tmp_path / "other_seed", 1500, 30000, seed=8)
    other = _files(tmp_path / "other_seed")
    assert other["transactions.csv"] != first["transactions.csv"]


def test_committed_seeds_are_what_write_sample_seeds_writes(tmp_path, sample_dir):
    write_sample_seeds(tmp_path)
    written = _files(tmp_path)
    assert sorted(written) == sorted(f"raw_{name}.csv" for name in TABLES)
    for name, content in written.items():
        assert (SEEDS / name).read_bytes() == content, f"seeds/{name} is stale"
    assert not (SEEDS / "latent_labels.csv").exists()
    # the seeds are the default sample with a prefix
    for name in TABLES:
        assert written[f"raw_{name}.csv"] == (sample_dir / f"{name}.csv").read_bytes()


def test_columns_and_csv_formats(sample_dir):
    for name, columns in COLUMNS.items():
        header = (sample_dir / f"{name}.csv").read_text().splitlines()[0]
        assert header.split(",") == columns
    customers = (sample_dir / "customers.csv").read_text().splitlines()
    assert re.fullmatch(r"C\d{7},\d{4}-\d\d-\d\d,\d+,[a-z]+,[A-Za-z]+,[a-z]+,\d+\.\d\d,"
                        r"c\d{7}@[a-z.]+,\d+", customers[1])
    transaction = (sample_dir / "transactions.csv").read_text().splitlines()[1]
    assert re.fullmatch(r"T\d{9},C\d{7},\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,[a-z_ ]+,-?\d+,"
                        r"-?\d+\.\d\d,-?\d+\.\d\d,[a-z_ ]+,[a-z ]+", transaction.strip())
    contact = (sample_dir / "campaign_contacts.csv").read_text().splitlines()[1]
    assert re.fullmatch(r"CMP\d\d,C\d{7},\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,(true|false),\d+\.\d\d",
                        contact)


def test_row_counts_are_close_to_requested(con):
    labels = _scalar(con, "select count(distinct customer_id) from latent_labels")
    assert labels == _scalar(con, "select count(*) from latent_labels") == SAMPLE_CUSTOMERS
    extra = sum(CUSTOMER_EXTRA_ROW_RATES.values())
    assert _scalar(con, "select count(*) from customers") == pytest.approx(
        SAMPLE_CUSTOMERS * (1 + extra), rel=0.01)
    # every labelled customer is in customers with a valid id
    assert _scalar(con, "select count(*) from latent_labels where customer_id not in "
                        "(select customer_id from customers where customer_id is not null)") == 0
    # transactions before the extra duplicate rows: within 5% of the request
    duplicates = _scalar(con, "select count(transaction_id) - count(distinct transaction_id) "
                              "from transactions")
    base = _scalar(con, "select count(*) from transactions") - duplicates
    assert base == pytest.approx(SAMPLE_TRANSACTIONS, rel=0.05)
    assert _scalar(con, "select count(*) from campaigns") == 8


def test_behaviour_shares(con):
    shares = dict(con.sql("select behaviour, count(*) / 3000 from latent_labels "
                          "group by all").fetchall())
    assert set(shares) == {b.name for b in BEHAVIOURS}
    for behaviour in BEHAVIOURS:
        assert shares[behaviour.name] == pytest.approx(behaviour.share, abs=0.03)


def test_behaviours_are_separable_on_rfm_features(con):
    stats = {row[0]: row[1:] for row in con.sql("""
        select behaviour, avg(orders), median(order_value), median(recency_days),
            min(recency_days), avg(discount_share), avg(return_rate), avg(categories)
        from per_customer group by all
    """).fetchall()}
    overall_orders, overall_value = con.sql(
        "select avg(orders), median(order_value) from per_customer").fetchall()[0]
    loyal, hunter = stats["loyal_high_spender"], stats["discount_hunter"]
    new, lapsed, occasional = stats["new_customer"], stats["lapsed"], stats["occasional"]
    assert loyal[0] > 2.5 * overall_orders and loyal[1] > 2 * overall_value
    assert loyal[2] < 30 and loyal[4] < 0.03 and loyal[6] > 7
    assert hunter[1] < 0.6 * overall_value and 0.2 < hunter[4] < 0.5
    assert hunter[5] > 1.5 * max(loyal[5], occasional[5])
    assert lapsed[3] >= 300 and lapsed[2] > 300
    assert occasional[0] < 0.5 * overall_orders and 30 < occasional[2] < 300
    assert new[0] < 4 and new[2] < 120
    orders = con.sql("select min(orders), max(orders) from per_customer "
                     "where behaviour = 'new_customer'").fetchall()[0]
    assert orders[1] <= 6


def test_transactions_fall_after_signup_and_inside_the_window(con):
    outside = _scalar(con, f"""
        select count(*)
        from clean_transactions as tx
        join customers using (customer_id)
        where tx.ts < cast(customers.signup_date as date)
            or tx.ts < timestamp '{WINDOW_START}'
            or tx.ts >= timestamp '{WINDOW_END + timedelta(days=1)}'
    """)
    assert outside == 0
    # new customers signed up in the last 120 days; the signup dates start in 2019
    first_signup = _scalar(con, "select min(cast(signup_date as date)) from customers")
    assert first_signup >= date(2019, 1, 1)
    late = _scalar(con, """
        select min(cast(signup_date as date)) from customers
        join latent_labels using (customer_id) where behaviour = 'new_customer'
    """)
    assert late >= WINDOW_END - timedelta(days=120)


def test_campaign_response_depends_on_behaviour_and_offer(con):
    rates = {(offer, behaviour): rate for offer, behaviour, rate in con.sql("""
        select campaigns.offer_type, labels.behaviour, avg(cast(responded = 'true' as int))
        from campaign_contacts as contacts
        join campaigns using (campaign_id)
        join latent_labels as labels using (customer_id)
        group by all
    """).fetchall()}
    assert 0.25 < rates[("discount", "discount_hunter")] < 0.45
    assert 0.12 < rates[("loyalty_points", "loyal_high_spender")] < 0.3
    assert rates[("discount", "lapsed")] < 0.1
    assert _scalar(con, "select count(*) from campaign_contacts "
                        "where responded = 'false' and response_revenue <> '0.00'") == 0
    assert _scalar(con, "select min(cast(response_revenue as double)) from campaign_contacts "
                        "where responded = 'true'") > 0
    contacted = _scalar(con, "select count(distinct (campaign_id, customer_id)) "
                             "from campaign_contacts") / (8 * SAMPLE_CUSTOMERS)
    assert 0.15 < contacted < 0.25  # 25% of the customers signed up by each campaign's start


def _rate(con, table: str, condition: str) -> float:
    return _scalar(con, f"select avg(case when {condition} then 1.0 else 0 end) from {table}")


ELIGIBLE = 0.97  # share of transactions that may carry a rejecting defect

DEFECT_RATES = [
    ("customers", "customer_id is null", CUSTOMER_EXTRA_ROW_RATES["null_id"]),
    ("customers", "age is null", CUSTOMER_NULL_RATES["age"]),
    ("customers", "annual_income is null", CUSTOMER_NULL_RATES["annual_income"]),
    ("customers", "age is not null and not coalesce(try_cast(age as int) between 0 and 120, "
                  "false)", CUSTOMER_INVALID_RATES["age"]),
    ("customers", "annual_income is not null and try_cast(annual_income as double) is null",
     CUSTOMER_INVALID_RATES["annual_income"]),
    ("customers", "gender not in ('female', 'male', 'other')", MESSY_TEXT_RATE),
    ("customers", "membership_tier not in ('bronze', 'silver', 'gold', 'platinum')",
     MESSY_TEXT_RATE),
    ("customers", f"city not in ({CITY_LIST}) and lower(trim(city)) in ({LOWER_CITY_LIST})",
     MESSY_TEXT_RATE),
    ("transactions", "transaction_id is null", TRANSACTION_DEFECT_RATES["null_id"] * ELIGIBLE),
    ("transactions", "customer_id not in (select customer_id from customers "
                     "where customer_id is not null)",
     TRANSACTION_DEFECT_RATES["orphan_customer"] * ELIGIBLE),
    ("transactions", "cast(quantity as int) <= 0",
     TRANSACTION_DEFECT_RATES["bad_quantity"] * ELIGIBLE),
    ("transactions", "cast(unit_price as double) <= 0",
     TRANSACTION_DEFECT_RATES["bad_price"] * ELIGIBLE),
    ("transactions", "try_cast(transaction_ts as timestamp) >= timestamp '2090-01-01'",
     TRANSACTION_DEFECT_RATES["future_ts"] * ELIGIBLE),
    ("transactions", "try_cast(transaction_ts as timestamp) is null",
     TRANSACTION_DEFECT_RATES["bad_ts"] * ELIGIBLE),
    ("transactions", "cast(discount_amount as double) < 0",
     TRANSACTION_DEFECT_RATES["negative_discount"] * ELIGIBLE),
    ("transactions", "lower(trim(status)) not in ('completed', 'returned', 'cancelled')",
     TRANSACTION_DEFECT_RATES["invalid_status"] * ELIGIBLE),
    ("transactions", f"coalesce(lower(trim(product_category)), '') not in ({CATEGORY_LIST})",
     UNKNOWN_CATEGORY_RATE * ELIGIBLE),
    ("transactions", f"product_category not in ({CATEGORY_LIST}) "
                     f"and lower(trim(product_category)) in ({CATEGORY_LIST})", MESSY_TEXT_RATE),
    ("transactions", "channel <> lower(trim(channel))", MESSY_TEXT_RATE),
    ("transactions", "status <> lower(trim(status)) "
                     "and lower(trim(status)) in ('completed', 'returned', 'cancelled')",
     MESSY_TEXT_RATE),
    ("campaign_contacts", "customer_id not in (select customer_id from customers "
                          "where customer_id is not null)",
     CONTACT_EXTRA_ROW_RATES["orphan_customer"]),
]


@pytest.mark.parametrize(("table", "condition", "planned"), DEFECT_RATES,
                         ids=[f"{t}: {c[:45]}" for t, c, _ in DEFECT_RATES])
def test_defect_is_planted_at_roughly_the_planned_rate(con, table, condition, planned):
    rate = _rate(con, table, condition)
    rows = _scalar(con, f"select count(*) from {table}")
    # Loose bounds: rare kinds have only a handful of rows in the sample.
    slack = 3 * (planned / rows) ** 0.5 + 0.2 * planned
    assert planned - slack < rate < planned + slack, (rate, planned)
    assert rate * rows >= 3


def test_duplicate_rows(con):
    customer_rows = _scalar(con, "select count(*) from customers")
    duplicate_ids = _scalar(con, "select count(customer_id) - count(distinct customer_id) "
                                 "from customers")
    exact = customer_rows - _scalar(con, "select count(*) from (select distinct * from customers)")
    planned = CUSTOMER_EXTRA_ROW_RATES["exact_duplicate"]
    assert duplicate_ids / SAMPLE_CUSTOMERS == pytest.approx(
        planned + CUSTOMER_EXTRA_ROW_RATES["variant_duplicate"], abs=0.004)
    assert 0 < exact < duplicate_ids  # some exact copies, some with other attributes
    transaction_rows = _scalar(con, "select count(*) from transactions")
    duplicate_ids = _scalar(con, "select count(transaction_id) - count(distinct transaction_id) "
                                 "from transactions")
    exact = transaction_rows - _scalar(
        con, "select count(*) from (select distinct * from transactions)")
    assert duplicate_ids / transaction_rows == pytest.approx(
        TRANSACTION_DUPLICATE_RATE, rel=0.3)
    assert 0.6 * duplicate_ids < exact < duplicate_ids  # mostly exact copies


def test_invalid_ages_of_every_kind(con):
    ages = [age for (age,) in con.sql("select age from customers where age is not null").fetchall()]
    numbers = [int(age) for age in ages if age.lstrip("-").isdigit()]
    assert any(n < 0 for n in numbers) and any(n > 120 for n in numbers)
    assert any(not age.lstrip("-").isdigit() for age in ages)


def test_campaign_defects(con):
    assert _scalar(con, "select count(*) from campaigns "
                        "where cast(end_date as date) < cast(start_date as date)") == 1
    assert _scalar(con, "select count(*) - count(distinct (campaign_id, customer_id)) "
                        "from campaign_contacts") >= 3
    assert _scalar(con, "select count(*) from campaign_contacts where campaign_id not in "
                        "(select campaign_id from campaigns)") >= 2


def test_parquet_run_has_the_same_columns(tmp_path):
    counts = generate(tmp_path, 20000, 400000, seed=42, fmt="parquet")
    assert set(counts) == {f"{name}.parquet" for name in ALL_FILES}
    with duckdb.connect() as connection:
        for name, columns in COLUMNS.items():
            path = tmp_path / f"{name}.parquet"
            relation = connection.sql(f"select * from read_parquet('{path}')")
            assert relation.columns == columns
            total = connection.sql(f"select count(*) from read_parquet('{path}')").fetchall()
            assert total[0][0] == counts[path.name]
    assert counts["latent_labels.parquet"] == 20000
    assert counts["transactions.parquet"] == pytest.approx(400000, rel=0.05)


def test_command_line(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "cli"), "--customers", "200", "--transactions",
                 "2000", "--format", "parquet"]) == 0
    assert sorted(p.name for p in (tmp_path / "cli").iterdir()) == sorted(
        f"{name}.parquet" for name in ALL_FILES)
    assert "elapsed" in capsys.readouterr().out
    assert main(["--sample-seeds", "--out", str(tmp_path / "seeds")]) == 0
    assert sorted(p.name for p in (tmp_path / "seeds").iterdir()) == sorted(
        f"raw_{name}.csv" for name in TABLES)


@pytest.mark.parametrize(("n_customers", "width"), [
    (1_000_000, 8), (9_090_909, 8), (9_090_910, 9), (10_000_000, 9), (90_000_000, 9)])
def test_customer_ids_keep_one_width_up_to_the_last_orphan_id(n_customers, width):
    """C and seven digits while the customers and the orphan ids after them fit, else eight:
    every id of one dataset has the same width (ids sort as numbers)."""
    id_format = _customer_id_format(n_customers)
    last_orphan_id = n_customers + _orphan_pool(n_customers)
    assert len(id_format % 1) == len(id_format % last_orphan_id) == width


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"fmt": "json"}, "fmt"),
    ({"n_customers": 0}, "n_customers"),
    ({"n_customers": 90_000_001}, "n_customers"),
    ({"n_transactions": -1}, "n_transactions"),
])
def test_invalid_arguments_are_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, **kwargs)


def test_render_sql_fills_parameters_and_declared_salts():
    # `::` casts and colons inside literals are not placeholders
    sql = "select u(i, :salt_city), (:n)::bigint, '10:00' from range(:n)"
    assert re.fullmatch(r"select u\(i, \d+\), \(5\)::bigint, '10:00' from range\(5\)",
                        render_sql(sql, 42, {"n": 5}))
    # a salt depends on the seed and the stream name only
    first, second, again = render_sql("select :salt_a, :salt_b, :salt_a", 42, {})[7:].split(", ")
    assert first == again != second
    assert render_sql(":salt_a", 43, {}) != first == render_sql(":salt_a", 42, {})


def test_render_sql_refuses_an_unknown_placeholder():
    with pytest.raises(KeyError, match=r"demo\.sql: placeholder :n_custmers has no parameter"):
        render_sql("select * from range(:n_custmers)", 42, {}, source="demo.sql")


def test_render_sql_refuses_an_unused_parameter():
    with pytest.raises(ValueError, match=r"demo\.sql: parameters without a placeholder: n_cust"):
        render_sql("select 1", 42, {"n_custmers": 5}, source="demo.sql")
