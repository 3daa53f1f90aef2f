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
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date
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


class _SqlParams(dict[str, object]):
    """format_map() values: the given parameters, and a salt for any other name."""

    def __init__(self, seed: int, values: Mapping[str, object]) -> None:
        super().__init__(values)
        self.seed = seed

    def __missing__(self, key: str) -> int:
        return _salt(self.seed, key)


def _render(sql: str, seed: int, **values: object) -> str:
    """Fill `{name}` placeholders: parameters by name, every other name becomes a salt."""
    return sql.format_map(_SqlParams(seed, values))


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


MACROS = """
    create macro u(key, salt) as
        ((hash(key + salt) >> 11)::double + 0.5) / 9007199254740992.0;
    create macro std_normal(key, salt_a, salt_b) as
        sqrt(-2 * ln(u(key, salt_a))) * cos(2 * pi() * u(key, salt_b));
    create macro pick(items, uniform) as
        items[1 + floor(uniform * len(items))::integer];
    -- Stray whitespace or casing around a clean value.
    create macro messy(value, uniform) as case
        when uniform < 0.3 then upper(value)
        when uniform < 0.55 then ' ' || upper(value[1]) || value[2:] || ' '
        when uniform < 0.8 then '  ' || value
        else lower(value) || '  '
    end;
"""


def _connect(threads: int | None) -> duckdb.DuckDBPyConnection:
    config = {"threads": threads} if threads else {}
    con = duckdb.connect(":memory:", config=config)
    con.execute(MACROS)
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
    con.execute(
        f"create table behaviours as select * from {_values_table(rows, behaviour_columns)}"
    )
    campaign_rows = [(n, *c) for n, c in enumerate(CAMPAIGNS, start=1)]
    campaign_columns = [
        "campaign_no", "campaign_id", "campaign_name", "channel", "offer_type",
        "start_date", "end_date",
    ]
    con.execute(
        f"create table campaigns as select * from {_values_table(campaign_rows, campaign_columns)}"
    )
    rate_rows = [
        (offer, b.name, rate)
        for offer, rates in RESPONSE_RATES.items()
        for b, rate in zip(BEHAVIOURS, rates, strict=True)
    ]
    con.execute(
        "create table response_rates as select * from "
        + _values_table(rate_rows, ["offer_type", "behaviour", "response_prob"])
    )


CUSTOMERS_BASE_SQL = """
create table cust as
with

ids as (
    select range + 1 as i from range({n_customers})
),

labelled as (
    select ids.i, b.*
    from ids
    join behaviours as b
        on u(ids.i, {behaviour}) >= b.share_from and u(ids.i, {behaviour}) < b.share_to
),

drawn as (
    select
        *,
        signup_from
            + floor(u(i, {signup}) * (signup_to - signup_from + 1))::integer as signup_date,
        lag_min + floor(u(i, {lag}) * (lag_max - lag_min + 1))::integer as lag_days,
        value_level * exp(0.25 * std_normal(i, {value_a}, {value_b})) as customer_value,
        1 + floor(u(i, {fav_category}) * {category_count})::integer as fav_category,
        1 + floor(u(i, {fav_channel}) * {channel_count})::integer as fav_channel,
        exp(0.5 * std_normal(i, {rate_a}, {rate_b}) - 0.125) as rate_noise
    from labelled
),

active as (
    select
        *,
        greatest(timestamp '{window_start}', signup_date::timestamp) as active_start,
        timestamp '{window_end_exclusive}' - to_days(lag_days) as active_end
    from drawn
),

weighted as (
    select
        *,
        epoch(active_end) - epoch(active_start) as span_seconds,
        -- New customers draw 1-6 orders; everyone else gets an integer weight (order rate x
        -- active share of the window x lognormal noise) that is scaled to the remaining total.
        case when name = 'new_customer'
            then least(6, 1 + floor(-ln(u(i, {new_orders})) * 1.8))::bigint
            else 0
        end as new_orders,
        case when name = 'new_customer' then 0
            else round(
                1e6 * order_rate * (epoch(active_end) - epoch(active_start))
                / ({window_days} * 86400) * rate_noise
            )::bigint
        end as weight
    from active
),

totals as (
    select sum(new_orders) as new_total, nullif(sum(weight), 0) as weight_total
    from weighted
),

counted as (
    select
        weighted.*,
        case when name = 'new_customer' then new_orders
            else greatest(1, floor(
                weight * greatest({n_transactions} - new_total, 0) / weight_total
                + u(i, {order_rounding})
            ))::bigint
        end as n_tx
    from weighted
    cross join totals
)

select
    i,
    printf('C%07d', i) as customer_id,
    name as behaviour,
    counted.* exclude (i, name, share_from, share_to),
    (sum(n_tx) over (order by i) - n_tx)::bigint as tx_offset
from counted
"""


CUSTOMERS_SQL = """
with

attributes as (
    select
        i,
        customer_id,
        signup_date,
        least(85, greatest(18, round(age_mean + age_sd * std_normal(i, {age_a}, {age_b}))))
            ::integer as age,
        greatest(8000, round(income_median * exp(0.45 * std_normal(i, {inc_a}, {inc_b})), -2))
            as income,
        case when u(i, {gender}) < 0.50 then 'female'
            when u(i, {gender}) < 0.96 then 'male' else 'other' end as gender,
        pick({cities}, u(i, {city})) as city,
        case when u(i, {tier}) < bronze then 'bronze'
            when u(i, {tier}) < bronze + silver then 'silver'
            when u(i, {tier}) < bronze + silver + gold then 'gold'
            else 'platinum' end as membership_tier,
        lower(customer_id) || '@' || pick({domains}, u(i, {domain})) as email,
        round(points_median * exp(0.7 * std_normal(i, {pts_a}, {pts_b})))::integer
            as loyalty_points,
        {extra_row_case} as extra_row
    from cust
),

with_defects as (
    select
        *,
        case
            when u(i, {age_defect}) < {age_null} then null
            when u(i, {age_defect}) < {age_null} + {age_invalid} then case
                when u(i, {age_invalid_kind}) < 1 / 3 then (-age)::varchar
                when u(i, {age_invalid_kind}) < 2 / 3 then (age + 103)::varchar
                else pick(['unknown', 'n/a', 'forty'], u(i, {age_text}))
            end
            else age::varchar
        end as age_text,
        case
            when u(i, {income_defect}) < {income_null} then null
            when u(i, {income_defect}) < {income_null} + {income_invalid}
                then pick(['unknown', 'n/a', '50k', '$72,000', 'ask later'],
                          u(i, {income_invalid_kind}))
            else income::decimal(12, 2)::varchar
        end as income_text,
        {gender_text} as gender_text,
        {city_text} as city_text,
        {tier_text} as tier_text,
        case when u(i, {email_null}) >= {email_rate} then email end as email_text,
        case when u(i, {points_null}) >= {points_rate} then loyalty_points end as points_value
    from attributes
),

copies as (
    select
        *,
        unnest(case when extra_row is null then [0] else [0, 1] end) as copy
    from with_defects
)

select
    case when copy = 1 and extra_row = 'null_id' then null else customer_id end
        as customer_id,
    signup_date,
    age_text as age,
    gender_text as gender,
    case when copy = 1 and extra_row = 'variant_duplicate'
        -- Any other city: shift the clean city's position by 1 to city_count - 1.
        then {cities}[1 + (
            list_position({cities}, city)
            + floor(u(i, {dup_city}) * ({city_count} - 1))::integer
        ) % {city_count}]
        else city_text
    end as city,
    tier_text as membership_tier,
    income_text as annual_income,
    case when copy = 1 and extra_row = 'variant_duplicate' then null else email_text end
        as email,
    case when copy = 1 and extra_row = 'variant_duplicate' then null else points_value end
        as loyalty_points
from copies
order by i, copy
"""


class _KeepPlaceholders(dict[str, str]):
    """First formatting pass: fill the given fragments, leave other `{name}`s for _render."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _optional_messy(value: str, name: str, null_rate: float) -> str:
    """SQL: null at null_rate, else stray whitespace/casing at MESSY_TEXT_RATE, else clean."""
    return (
        f"case when u(i, {{{name}_defect}}) < {null_rate!r} then null "
        f"when u(i, {{{name}_defect}}) < {null_rate + MESSY_TEXT_RATE!r} "
        f"then messy({value}, u(i, {{{name}_messy_kind}})) else {value} end"
    )


def _customers_sql(seed: int) -> str:
    template = CUSTOMERS_SQL.format_map(
        _KeepPlaceholders(
            gender_text=_optional_messy("gender", "gender", CUSTOMER_NULL_RATES["gender"]),
            city_text=_optional_messy("city", "city", CUSTOMER_NULL_RATES["city"]),
            tier_text=_optional_messy(
                "membership_tier", "tier", CUSTOMER_NULL_RATES["membership_tier"]
            ),
            extra_row_case=_bucket_case("u(i, {extra_row})", CUSTOMER_EXTRA_ROW_RATES),
        )
    )
    return _render(
        template,
        seed,
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


TRANSACTIONS_SQL = """
with

orders as (
    select
        *,
        behaviour <> 'new_customer' and n_tx >= 3 as defect_eligible,
        unnest(range(n_tx)) as k
    from cust
),

drawn as (
    select
        tx_offset + k + 1 as seq,
        customer_id,
        defect_eligible,
        -- Order k falls at a random point of the k-th of n_tx equal slots of the active
        -- period, so transaction ids increase with time within a customer.
        active_start + to_seconds(floor(
            (k + u(tx_offset + k + 1, {ts})) / n_tx * span_seconds)::bigint
        ) as ts,
        case when u(tx_offset + k + 1, {use_favourite}) < favourite_prob then fav_category
            else 1 + floor(u(tx_offset + k + 1, {category}) * {category_count})::integer
        end as category_no,
        case when u(tx_offset + k + 1, {use_favourite_channel}) < 0.6 then fav_channel
            else 1 + floor(u(tx_offset + k + 1, {channel}) * {channel_count})::integer
        end as channel_no,
        1 + floor(-ln(u(tx_offset + k + 1, {quantity})) * 0.6)::integer as quantity,
        customer_value * exp(0.45 * std_normal(tx_offset + k + 1, {price_a}, {price_b}))
            as price_level,
        case when u(tx_offset + k + 1, {discounted}) < discount_prob
            then discount_lo + (discount_hi - discount_lo) * u(tx_offset + k + 1, {discount})
            else 0
        end as discount_share,
        case when u(tx_offset + k + 1, {status}) < cancel_prob then 'cancelled'
            when u(tx_offset + k + 1, {status}) < cancel_prob + return_prob then 'returned'
            else 'completed'
        end as status
    from orders
),

priced as (
    select
        *,
        {categories}[category_no] as category,
        {channels}[channel_no] as channel,
        -- Shelf prices end in .99.
        (greatest(round({category_prices}[category_no] * price_level), 1) - 0.01)
            ::decimal(12, 2) as unit_price
    from drawn
),

marked as (
    select
        *,
        round(quantity * unit_price * discount_share, 2)::decimal(12, 2) as discount_amount,
        case when defect_eligible then {defect_case} end as defect,
        defect_eligible and u(seq, {unknown_category}) < {unknown_category_rate}
            as unknown_category
    from priced
),

copies as (
    select
        *,
        unnest(case when defect is null and u(seq, {duplicate}) < {duplicate_rate}
            then [0, 1] else [0] end) as copy
    from marked
)

select
    case when defect = 'null_id' then null else printf('T%09d', seq) end as transaction_id,
    case when defect = 'orphan_customer'
        then printf('C%07d', {n_customers} + 1 + floor(u(seq, {orphan}) * {orphan_pool})::bigint)
        else customer_id
    end as customer_id,
    case defect
        when 'future_ts' then (
            timestamp '2090-01-01' + to_seconds(floor(u(seq, {future}) * 315532800)::bigint)
        )::varchar
        when 'bad_ts' then pick(
            ['not a date', '2024-13-45 25:61:00', '31/02/2025 10:00', 'yesterday', '??'],
            u(seq, {bad_ts_kind}))
        else ts::varchar
    end as transaction_ts,
    case
        when unknown_category then pick(['N/A', 'misc??', ''], u(seq, {unknown_kind}))
        when u(seq, {category_messy}) < {messy_rate}
            then messy(category, u(seq, {category_messy_kind}))
        else category
    end as product_category,
    case
        when defect = 'bad_quantity' then -floor(u(seq, {bad_quantity}) * 3)::integer
        -- Not every duplicate is exact: a fifth differ in quantity.
        when copy = 1 and u(seq, {duplicate_variant}) < 0.2 then quantity + 1
        else quantity
    end as quantity,
    case
        when defect = 'bad_price' and u(seq, {bad_price}) < 0.5 then 0.00
        when defect = 'bad_price' then -unit_price
        else unit_price
    end::decimal(12, 2) as unit_price,
    case when defect = 'negative_discount'
        then -(1 + floor(u(seq, {negative_discount}) * 20))
        else discount_amount
    end::decimal(12, 2) as discount_amount,
    case when u(seq, {channel_messy}) < {messy_rate}
        then messy(channel, u(seq, {channel_messy_kind}))
        else channel
    end as channel,
    case
        when defect = 'invalid_status'
            then pick(['pending', 'processing', 'lost'], u(seq, {invalid_status}))
        when u(seq, {status_messy}) < {messy_rate}
            then messy(status, u(seq, {status_messy_kind}))
        else status
    end as status
from copies
order by seq, copy
"""


def _transactions_sql(seed: int, n_customers: int) -> str:
    template = TRANSACTIONS_SQL.format_map(
        _KeepPlaceholders(defect_case=_bucket_case("u(seq, {defect})", TRANSACTION_DEFECT_RATES))
    )
    return _render(
        template,
        seed,
        n_customers=n_customers,
        orphan_pool=max(n_customers // 10, 50),
        categories=_list_literal([name for name, _ in CATEGORIES]),
        category_prices=_list_literal([price for _, price in CATEGORIES]),
        channels=_list_literal(CHANNELS),
        category_count=len(CATEGORIES),
        channel_count=len(CHANNELS),
        unknown_category_rate=UNKNOWN_CATEGORY_RATE,
        duplicate_rate=TRANSACTION_DUPLICATE_RATE,
        messy_rate=MESSY_TEXT_RATE,
    )


CONTACTS_SQL = """
with

pairs as (
    select
        cust.i * 16 + campaigns.campaign_no as pair_key,
        cust.i,
        cust.customer_id,
        cust.behaviour,
        cust.response_value,
        campaigns.campaign_id,
        campaigns.offer_type,
        campaigns.start_date,
        greatest(campaigns.end_date, campaigns.start_date + 6) as last_date
    from cust
    cross join campaigns
    where cust.signup_date <= campaigns.start_date
),

contacted as (
    select
        pairs.*,
        start_date::timestamp + to_seconds(floor(
            u(pair_key, {contact_time}) * (last_date - start_date + 1) * 86400)::bigint
        ) as contacted_at,
        u(pair_key, {respond}) < rates.response_prob as responded
    from pairs
    join response_rates as rates using (offer_type, behaviour)
    where u(pair_key, {contact}) < {contact_rate}
),

copies as (
    select
        *,
        {extra_row_case} as extra_row,
        unnest(case when {extra_row_case} is null then [0] else [0, 1] end) as copy
    from contacted
),

rows as (
    select
        pair_key,
        copy,
        case when copy = 1 and extra_row = 'orphan_campaign' then 'CMP99'
            else campaign_id end as campaign_id,
        case when copy = 1 and extra_row = 'orphan_customer'
            then printf('C%07d', {n_customers} + 1
                + floor(u(pair_key, {orphan}) * {orphan_pool})::bigint)
            else customer_id
        end as customer_id,
        contacted_at,
        responded,
        case when responded
            then round(response_value * exp(0.6 * std_normal(pair_key, {rev_a}, {rev_b})), 2)
            else 0
        end::decimal(12, 2) as response_revenue
    from copies
)

select campaign_id, customer_id, contacted_at, responded, response_revenue
from rows
order by campaign_id, customer_id, pair_key, copy
"""


def _contacts_sql(seed: int, n_customers: int) -> str:
    template = CONTACTS_SQL.format_map(
        _KeepPlaceholders(
            extra_row_case=_bucket_case("u(pair_key, {contact_extra})", CONTACT_EXTRA_ROW_RATES)
        )
    )
    return _render(
        template,
        seed,
        n_customers=n_customers,
        orphan_pool=max(n_customers // 10, 50),
        contact_rate=CONTACT_RATE,
    )


CAMPAIGNS_SQL = """
select campaign_id, campaign_name, channel, offer_type, start_date, end_date
from campaigns
order by campaign_no
"""

LABELS_SQL = """
select customer_id, behaviour
from cust
order by i
"""


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
    # Customer ids have seven digits, orphan ids go up to 1.1 x n_customers.
    if not 1 <= n_customers <= 9_000_000:
        raise ValueError(f"n_customers must be between 1 and 9,000,000, got {n_customers}")
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
        con.execute(
            _render(
                CUSTOMERS_BASE_SQL,
                seed,
                n_customers=n_customers,
                n_transactions=n_transactions,
                window_start=WINDOW_START.isoformat(),
                window_end_exclusive=date.fromordinal(WINDOW_END.toordinal() + 1).isoformat(),
                window_days=WINDOW_DAYS,
                category_count=len(CATEGORIES),
                channel_count=len(CHANNELS),
            )
        )
        queries = {
            "customers": _customers_sql(seed),
            "transactions": _transactions_sql(seed, n_customers),
            "campaigns": CAMPAIGNS_SQL,
            "campaign_contacts": _contacts_sql(seed, n_customers),
        }
        counts = {}
        for table, query in queries.items():
            name = f"{prefix}{table}.{fmt}"
            counts[name] = _copy(con, query, out_dir / name, fmt)
        labels = f"{LABELS}.{fmt}"
        counts[labels] = _copy(con, LABELS_SQL, labels_dir / labels, fmt)
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
