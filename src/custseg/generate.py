"""Deterministic synthetic customer data, generated inside DuckDB.

Every random draw is a hash of a row key plus a salt, mapped to a uniform in (0, 1) by the SQL
macro `u(key, salt)`. Salts come from blake2b of (seed, name) in Python, so different names give
independent streams. Nothing uses `random()` or floating-point aggregates, so the output does not
depend on the thread count or the order in which DuckDB processes rows: only on the arguments
(and on DuckDB's integer `hash`, which a DuckDB upgrade could in principle change).

Each customer has a hidden behaviour (written to `latent_labels`) that drives signup date,
order count, order value, discounts, returns, recency and campaign response. A few percent of
rows then get planted defects (see the `*_RATES` tables) that the staging models must reject or
clean. Defects that reject a row only hit customers with enough orders left to keep their
behaviour recognisable; duplicate and null-id customer rows are extra rows, never replacements.

The SQL lives in generator_sql/*.sql (package data, linted by sqlfluff); `render_sql` fills its
`:name` parameters and `:salt_name` salts and refuses unknown or unused names.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date
from importlib import resources
from pathlib import Path

import duckdb

FORMATS = ("csv", "parquet")
TABLES = ("customers", "transactions", "campaigns", "campaign_contacts")
LABELS = "latent_labels"

WINDOW_START = date(2023, 11, 1)
WINDOW_END = date(2026, 10, 31)  # last day with transactions
WINDOW_DAYS = (WINDOW_END - WINDOW_START).days + 1

SAMPLE_CUSTOMERS = 3000
SAMPLE_TRANSACTIONS = 60000
SAMPLE_SEED = 42


@dataclass(frozen=True)
class Behaviour:
    """How one latent customer behaviour shapes the data."""

    name: str
    share: float  # expected share of customers
    order_rate: float  # relative orders per active day (new customers draw 1-6 orders instead)
    signup_from: date
    signup_to: date
    lag_min: int  # the last possible order is lag_min..lag_max days before the window end
    lag_max: int
    value_level: float  # multiplier of the median unit price
    discount_prob: float  # share of orders with a discount
    discount_lo: float  # discount as a share of gross
    discount_hi: float
    return_prob: float
    cancel_prob: float
    favourite_prob: float  # share of orders in the customer's favourite category
    age_mean: float
    age_sd: float
    income_median: float
    bronze: float  # membership tier shares (bronze, silver, gold; platinum is the rest)
    silver: float
    gold: float
    points_median: float  # loyalty points
    response_value: float  # median campaign response revenue


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "loyal_high_spender", 0.15, 2.7, date(2019, 1, 1), date(2022, 12, 31), 0, 5,
        2.2, 0.10, 0.05, 0.15, 0.03, 0.03, 0.15,
        46, 10, 90000, 0.05, 0.15, 0.45, 6000, 150,
    ),
    Behaviour(
        "discount_hunter", 0.20, 1.4, date(2019, 6, 1), date(2025, 6, 30), 0, 30,
        0.55, 0.80, 0.20, 0.50, 0.14, 0.06, 0.55,
        33, 9, 42000, 0.45, 0.40, 0.12, 1500, 45,
    ),
    Behaviour(
        "new_customer", 0.15, 0.0, date(2026, 7, 3), WINDOW_END, 0, 0,
        1.0, 0.30, 0.10, 0.15, 0.06, 0.05, 0.50,
        29, 8, 50000, 0.85, 0.13, 0.02, 150, 60,
    ),
    Behaviour(
        "lapsed", 0.20, 1.6, date(2019, 1, 1), date(2022, 12, 31), 300, 900,
        0.9, 0.25, 0.05, 0.20, 0.07, 0.05, 0.50,
        45, 13, 60000, 0.40, 0.40, 0.15, 800, 70,
    ),
    Behaviour(
        "occasional", 0.30, 0.3, date(2019, 1, 1), date(2024, 12, 31), 0, 45,
        1.1, 0.25, 0.05, 0.20, 0.06, 0.05, 0.50,
        40, 13, 58000, 0.50, 0.35, 0.12, 600, 70,
    ),
)

# (name, median unit price before the customer's value level)
CATEGORIES: tuple[tuple[str, float], ...] = (
    ("electronics", 90.0), ("fashion", 40.0), ("home", 50.0), ("beauty", 20.0),
    ("grocery", 12.0), ("sports", 40.0), ("toys", 25.0), ("books", 14.0),
)
CHANNELS = ("online", "store", "mobile_app")
CITIES = (
    "London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Liverpool",
    "Bristol", "Sheffield", "Edinburgh", "Cardiff", "Belfast", "Newcastle",
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example")
OFFER_TYPES = ("discount", "bogo", "free_shipping", "loyalty_points", "new_arrivals")

# campaign_id, name, channel, offer_type, start, end. CMP07's end before its start is a defect.
CAMPAIGNS: tuple[tuple[str, str, str, str, date, date], ...] = (
    ("CMP01", "Winter Warm-Up Sale", "email", "discount", date(2024, 1, 8), date(2024, 1, 28)),
    ("CMP02", "Spring BOGO", "sms", "bogo", date(2024, 4, 1), date(2024, 4, 14)),
    ("CMP03", "Summer Free Shipping", "email", "free_shipping", date(2024, 7, 1),
     date(2024, 7, 31)),
    ("CMP04", "Double Points October", "push", "loyalty_points", date(2024, 10, 1),
     date(2024, 10, 31)),
    ("CMP05", "Black Friday", "email", "discount", date(2024, 11, 25), date(2024, 12, 2)),
    ("CMP06", "New Season Arrivals", "push", "new_arrivals", date(2025, 3, 3),
     date(2025, 3, 23)),
    ("CMP07", "Back to School BOGO", "sms", "bogo", date(2025, 8, 31), date(2025, 8, 11)),
    ("CMP08", "Autumn Loyalty Rewards", "email", "loyalty_points", date(2026, 9, 14),
     date(2026, 10, 4)),
)
CONTACT_RATE = 0.25  # of the customers signed up by a campaign's start

# Response probability by offer type, in BEHAVIOURS order.
RESPONSE_RATES: dict[str, tuple[float, ...]] = {
    "discount": (0.06, 0.35, 0.08, 0.03, 0.06),
    "bogo": (0.05, 0.30, 0.07, 0.03, 0.06),
    "free_shipping": (0.08, 0.12, 0.10, 0.03, 0.07),
    "loyalty_points": (0.20, 0.05, 0.05, 0.02, 0.05),
    "new_arrivals": (0.15, 0.05, 0.12, 0.02, 0.06),
}

# Planted defects. Each table's kinds are mutually exclusive per row; the rate is the share of
# base rows (of eligible transactions: customers with 3+ orders that are not new customers).
CUSTOMER_EXTRA_ROW_RATES = {
    "exact_duplicate": 0.006,  # an identical second row
    "variant_duplicate": 0.004,  # same id and signup, other city, no email or points
    "null_id": 0.010,  # a copy of the row without customer_id
}
CUSTOMER_NULL_RATES = {
    "age": 0.04, "annual_income": 0.05, "gender": 0.02, "city": 0.015,
    "membership_tier": 0.01, "email": 0.03, "loyalty_points": 0.03,
}
CUSTOMER_INVALID_RATES = {"age": 0.004, "annual_income": 0.003}  # after the nulls
MESSY_TEXT_RATE = 0.04  # stray whitespace or casing, per text attribute
TRANSACTION_DEFECT_RATES = {
    "null_id": 0.005,
    "orphan_customer": 0.010,
    "bad_quantity": 0.010,  # 0, -1 or -2
    "bad_price": 0.005,  # 0.00 or negative
    "future_ts": 0.003,  # 2090-2099
    "bad_ts": 0.002,  # unparseable
    "negative_discount": 0.002,
    "invalid_status": 0.002,
}
TRANSACTION_DUPLICATE_RATE = 0.005  # of rows without another defect; 80% exact copies
UNKNOWN_CATEGORY_RATE = 0.010
CONTACT_EXTRA_ROW_RATES = {
    "duplicate": 0.002,
    "orphan_customer": 0.005,
    "orphan_campaign": 0.001,
}


def _salt(seed: int, name: str) -> int:
    """A 62-bit offset for the stream `name`: hash(key + salt) then stays within BIGINT."""
    digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 2


# Placeholders in generator_sql/*.sql: `:name` is the parameter `name`, `:salt_name` the salt of
# the random stream `name`. The pattern is sqlfluff's `colon` param_style, so `::` casts and
# `10:00` in literals are not placeholders (nor is `:name::type`: write `(:name)::type`).
_PLACEHOLDER = re.compile(r"(?<![:\w\\]):(?P<name>\w+)(?!:)")
SALT_PREFIX = "salt_"


def load_sql(name: str) -> str:
    """The text of generator_sql/{name}.sql (package data)."""
    return resources.files("custseg").joinpath("generator_sql", f"{name}.sql").read_text("utf-8")


def render_sql(
    sql: str, seed: int | None, params: Mapping[str, object], source: str = "sql"
) -> str:
    """Fill `:salt_name` with the salt of `name` and `:name` with str(params[name]).

    A placeholder without a parameter raises KeyError and a parameter without a placeholder
    raises ValueError, both naming `source`: a misspelling fails instead of becoming a salt.
    A salt needs a seed (None: the SQL must have no salts).
    """
    used: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        name = match["name"]
        if name.startswith(SALT_PREFIX):
            if seed is None:
                raise ValueError(f"{source}: salt :{name} without a seed")
            return str(_salt(seed, name.removeprefix(SALT_PREFIX)))
        if name not in params:
            raise KeyError(f"{source}: placeholder :{name} has no parameter")
        used.add(name)
        return str(params[name])

    rendered = _PLACEHOLDER.sub(fill, sql)
    unused = sorted(set(params) - used)
    if unused:
        raise ValueError(f"{source}: parameters without a placeholder: {', '.join(unused)}")
    return rendered


def _sql(name: str, seed: int | None, **params: object) -> str:
    """generator_sql/{name}.sql rendered with the given parameters."""
    return render_sql(load_sql(name), seed, params, source=f"generator_sql/{name}.sql")


def _sql_literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, float):
        return f"{value!r}::double"
    return repr(value)


def _values_table(rows: Sequence[Sequence[object]], columns: Sequence[str]) -> str:
    """A `(values ...) as t(columns)` relation for a small constant table."""
    body = ",\n        ".join("(" + ", ".join(map(_sql_literal, row)) + ")" for row in rows)
    return f"(values\n        {body}\n    ) as t({', '.join(columns)})"


def _bucket_case(uniform: str, rates: Mapping[str, float]) -> str:
    """CASE mapping a uniform onto consecutive intervals of the given widths (else null)."""
    branches, upper = [], 0.0
    for kind, rate in rates.items():
        upper += rate
        branches.append(f"when {uniform} < {upper!r} then '{kind}'")
    return "case " + " ".join(branches) + " end"


def _list_literal(items: Sequence[object]) -> str:
    return "[" + ", ".join(map(_sql_literal, items)) + "]"


def _connect(threads: int | None) -> duckdb.DuckDBPyConnection:
    config = {"threads": threads} if threads else {}
    con = duckdb.connect(":memory:", config=config)
    con.execute(_sql("macros", None))
    return con


def _create_constants(con: duckdb.DuckDBPyConnection) -> None:
    """Small lookup tables: behaviours (with share intervals), campaigns, response rates."""
    columns = [f.name for f in fields(Behaviour)]
    rows, upper = [], 0.0
    for number, behaviour in enumerate(BEHAVIOURS, start=1):
        lower, upper = upper, upper + behaviour.share
        last = number == len(BEHAVIOURS)
        rows.append((number, lower, 1.0 if last else upper, *astuple(behaviour)))
    behaviour_columns = ["behaviour_no", "share_from", "share_to", *columns]
    campaign_rows = [(n, *c) for n, c in enumerate(CAMPAIGNS, start=1)]
    campaign_columns = [
        "campaign_no", "campaign_id", "campaign_name", "channel", "offer_type",
        "start_date", "end_date",
    ]
    rate_rows = [
        (offer, b.name, rate)
        for offer, rates in RESPONSE_RATES.items()
        for b, rate in zip(BEHAVIOURS, rates, strict=True)
    ]
    con.execute(
        _sql(
            "constants",
            None,
            behaviours=_values_table(rows, behaviour_columns),
            campaigns=_values_table(campaign_rows, campaign_columns),
            response_rates=_values_table(
                rate_rows, ["offer_type", "behaviour", "response_prob"]
            ),
        )
    )


def _orphan_pool(n_customers: int) -> int:
    """How many ids past the last customer orphan rows draw from."""
    return max(n_customers // 10, 50)


def _customer_id_format(n_customers: int) -> str:
    """The printf format of customer ids: C and seven digits (C0000001), eight when the
    customers and the orphan ids after them need them (above 9,090,909 customers)."""
    digits = 7 if n_customers + _orphan_pool(n_customers) < 10**7 else 8
    return f"C%0{digits}d"


def _customers_base_sql(seed: int, n_customers: int, n_transactions: int) -> str:
    return _sql(
        "customers_base",
        seed,
        n_customers=n_customers,
        customer_id_format=_customer_id_format(n_customers),
        n_transactions=n_transactions,
        window_start=WINDOW_START.isoformat(),
        window_end_exclusive=date.fromordinal(WINDOW_END.toordinal() + 1).isoformat(),
        window_days=WINDOW_DAYS,
        category_count=len(CATEGORIES),
        channel_count=len(CHANNELS),
    )


def _null_or_messy(name: str, null_rate: float) -> dict[str, float]:
    """`{name}_null` and `{name}_null_or_messy`: the upper bounds of the null and messy draws."""
    return {f"{name}_null": null_rate, f"{name}_null_or_messy": null_rate + MESSY_TEXT_RATE}


def _customers_sql(seed: int) -> str:
    return _sql(
        "customers",
        seed,
        **_null_or_messy("gender", CUSTOMER_NULL_RATES["gender"]),
        **_null_or_messy("city", CUSTOMER_NULL_RATES["city"]),
        **_null_or_messy("tier", CUSTOMER_NULL_RATES["membership_tier"]),
        extra_row_case=_bucket_case(f"u(i, {_salt(seed, 'extra_row')})", CUSTOMER_EXTRA_ROW_RATES),
        cities=_list_literal(CITIES),
        city_count=len(CITIES),
        domains=_list_literal(EMAIL_DOMAINS),
        age_null=CUSTOMER_NULL_RATES["age"],
        age_invalid=CUSTOMER_INVALID_RATES["age"],
        income_null=CUSTOMER_NULL_RATES["annual_income"],
        income_invalid=CUSTOMER_INVALID_RATES["annual_income"],
        email_rate=CUSTOMER_NULL_RATES["email"],
        points_rate=CUSTOMER_NULL_RATES["loyalty_points"],
    )


def _transactions_sql(seed: int, n_customers: int) -> str:
    return _sql(
        "transactions",
        seed,
        defect_case=_bucket_case(f"u(seq, {_salt(seed, 'defect')})", TRANSACTION_DEFECT_RATES),
        n_customers=n_customers,
        orphan_pool=_orphan_pool(n_customers),
        customer_id_format=_customer_id_format(n_customers),
        categories=_list_literal([name for name, _ in CATEGORIES]),
        category_prices=_list_literal([price for _, price in CATEGORIES]),
        channels=_list_literal(CHANNELS),
        category_count=len(CATEGORIES),
        channel_count=len(CHANNELS),
        unknown_category_rate=UNKNOWN_CATEGORY_RATE,
        duplicate_rate=TRANSACTION_DUPLICATE_RATE,
        messy_rate=MESSY_TEXT_RATE,
    )


def _contacts_sql(seed: int, n_customers: int) -> str:
    extra_row = f"u(pair_key, {_salt(seed, 'contact_extra')})"
    return _sql(
        "campaign_contacts",
        seed,
        extra_row_case=_bucket_case(extra_row, CONTACT_EXTRA_ROW_RATES),
        n_customers=n_customers,
        orphan_pool=_orphan_pool(n_customers),
        customer_id_format=_customer_id_format(n_customers),
        contact_rate=CONTACT_RATE,
    )


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path, fmt: str) -> int:
    """Write a query to CSV (dbt-seed friendly text) or Parquet; return the row count."""
    if fmt == "csv":
        options = (
            "format csv, header true, delimiter ',', "
            "dateformat '%Y-%m-%d', timestampformat '%Y-%m-%d %H:%M:%S'"
        )
    else:
        options = "format parquet, compression zstd"
    target = str(path).replace("'", "''")
    rows = con.execute(f"copy ({query}) to '{target}' ({options})").fetchall()
    return int(rows[0][0])


def _check_arguments(n_customers: int, n_transactions: int, fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    # Customer ids have at most eight digits (_customer_id_format); orphan ids go up to
    # 1.1 x n_customers.
    if not 1 <= n_customers <= 90_000_000:
        raise ValueError(f"n_customers must be between 1 and 90,000,000, got {n_customers}")
    if not 0 <= n_transactions <= 900_000_000:
        raise ValueError(f"n_transactions must be between 0 and 900,000,000, got {n_transactions}")


def generate(
    out_dir: Path,
    n_customers: int = SAMPLE_CUSTOMERS,
    n_transactions: int = SAMPLE_TRANSACTIONS,
    seed: int = SAMPLE_SEED,
    fmt: str = "csv",
    prefix: str = "",
    *,
    threads: int | None = None,
    labels_dir: Path | None = None,
) -> dict[str, int]:
    """Write the four raw inputs and latent_labels; return the row count per file name.

    Files: `{prefix}customers.{fmt}`, `{prefix}transactions.{fmt}`, `{prefix}campaigns.{fmt}`,
    `{prefix}campaign_contacts.{fmt}` in out_dir and `latent_labels.{fmt}` (customer_id,
    behaviour: the hidden truth) in labels_dir, which defaults to out_dir. The output depends
    only on the arguments, not on `threads`.
    """
    _check_arguments(n_customers, n_transactions, fmt)
    out_dir, labels_dir = Path(out_dir), Path(labels_dir or out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels_dir.mkdir(parents=True, exist_ok=True)
    con = _connect(threads)
    try:
        _create_constants(con)
        con.execute(_customers_base_sql(seed, n_customers, n_transactions))
        queries = {
            "customers": _customers_sql(seed),
            "transactions": _transactions_sql(seed, n_customers),
            "campaigns": _sql("campaigns", seed),
            "campaign_contacts": _contacts_sql(seed, n_customers),
        }
        counts = {}
        for table, query in queries.items():
            name = f"{prefix}{table}.{fmt}"
            counts[name] = _copy(con, query, out_dir / name, fmt)
        labels = f"{LABELS}.{fmt}"
        counts[labels] = _copy(con, _sql("latent_labels", seed), labels_dir / labels, fmt)
        return counts
    finally:
        con.close()


def write_sample_seeds(seeds_dir: Path) -> None:
    """Write the bundled sample as dbt seeds raw_*.csv; the latent labels are not kept."""
    _write_sample(seeds_dir)


def _write_sample(seeds_dir: Path) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as labels_dir:
        counts = generate(
            Path(seeds_dir),
            SAMPLE_CUSTOMERS,
            SAMPLE_TRANSACTIONS,
            seed=SAMPLE_SEED,
            fmt="csv",
            prefix="raw_",
            labels_dir=Path(labels_dir),
        )
    return {name: rows for name, rows in counts.items() if name.startswith("raw_")}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="custseg-generate",
        description="Generate deterministic synthetic customer data (with planted defects).",
    )
    parser.add_argument("--out", type=Path, help="output directory (default seeds/ with "
                        "--sample-seeds)")
    parser.add_argument("--customers", type=int, default=SAMPLE_CUSTOMERS)
    parser.add_argument("--transactions", type=int, default=SAMPLE_TRANSACTIONS)
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED)
    parser.add_argument("--format", choices=FORMATS, default="csv")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads")
    parser.add_argument(
        "--sample-seeds",
        action="store_true",
        help="write the bundled sample raw_*.csv seeds (3000 customers, seed 42)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console script `custseg-generate`."""
    parser = _parser()
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.sample_seeds:
        out = args.out or Path("seeds")
        counts = _write_sample(out)
    else:
        if args.out is None:
            parser.error("--out is required unless --sample-seeds is given")
        out = args.out
        counts = generate(
            out, args.customers, args.transactions, seed=args.seed, fmt=args.format,
            threads=args.threads,
        )
    for name, rows in counts.items():
        print(f"{out / name}: {rows:,} rows")
    print(f"elapsed: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
