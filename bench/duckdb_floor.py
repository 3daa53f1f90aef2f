"""The floor: one DuckDB query for the prepared feature table, one K-means fit.

The least work that still yields a segment per customer from the same Parquet files: a single
SQL statement (the same essential validation as staging, the same features, winsorizing,
imputation and log1p as the intermediate models) pulled into NumPy, then one KMeans fit at a
fixed K (no sweep, no metrics) on the same reproducible fit_sample_size sample with the same
scaler and K-means settings as custseg.clustering, and every customer assigned to its nearest
centroid. No intermediate tables, no rejects, no marts, no tests.

    python bench/duckdb_floor.py --data DIR --out result.parquet [--k 6] [--vars '{...}']
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import yaml
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances_argmin

from custseg.clustering import apply_scaler, fit_scaler, sample_indices

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pandas_pipeline import NUMERIC_FEATURES, project_vars  # noqa: E402

FEATURES_SQL = """
with

raw_customers as (
    select
        nullif(trim(customer_id), '') as customer_id,
        try_cast(signup_date as date) as signup_date,
        try_cast(trim(age) as double) as age_number,
        try_cast(trim(annual_income) as double) as income_number,
        (customer_id is not null)::int + (signup_date is not null)::int + (age is not null)::int
        + (gender is not null)::int + (city is not null)::int
        + (membership_tier is not null)::int + (annual_income is not null)::int
        + (email is not null)::int as non_null_values
    from read_parquet('{data}/customers.parquet')
),

customers as (
    select
        customer_id,
        signup_date,
        case when age_number between 16 and 110 then floor(age_number) end as age,
        case when income_number >= 0 then income_number end as annual_income
    from raw_customers
    where customer_id is not null
    qualify row_number() over (partition by customer_id order by non_null_values desc) = 1
),

typed as (
    select
        nullif(trim(transaction_id), '') as transaction_id,
        nullif(trim(customer_id), '') as customer_id,
        try_cast(trim(transaction_ts) as timestamp) as transaction_ts,
        replace(lower(trim(product_category)), ' ', '_') as category_text,
        quantity is null as quantity_missing,
        try_cast(quantity as double) as quantity,
        unit_price is null as price_missing,
        try_cast(unit_price as double) as unit_price,
        discount_amount is null as discount_missing,
        try_cast(discount_amount as double) as discount_amount,
        coalesce(nullif(lower(trim(status)), ''), 'completed') as status
    from read_parquet('{data}/transactions.parquet')
),

transactions as (
    select
        customer_id,
        transaction_ts,
        status,
        coalesce(quantity, 1) as quantity,
        round(coalesce(quantity, 1) * unit_price, 4) as gross_amount,
        round(coalesce(discount_amount, 0), 4) as discount_amount,
        case
            when category_text is null
                or category_text in ('', 'n/a', 'na', 'none', 'null', 'unknown')
                or not regexp_full_match(category_text, '[a-z][a-z0-9_&-]*')
                then 'unknown'
            else category_text
        end as product_category
    from typed
    where transaction_id is not null
        and customer_id is not null
        and transaction_ts is not null
        and transaction_ts <= now()::timestamp
        and (quantity_missing or quantity > 0)
        and (price_missing or unit_price > 0)
        and (discount_missing or coalesce(
            discount_amount between 0 and coalesce(quantity, 1) * unit_price,
            discount_amount >= 0, false))
        and status in ('completed', 'returned', 'cancelled')
        and customer_id in (select customer_id from customers)
    qualify row_number() over (partition by transaction_id) = 1
),

as_of as (
    select max(cast(transaction_ts as date)) as as_of_date from transactions
),

purchases as (
    select
        customer_id,
        count(*) filter (status = 'completed') as frequency,
        count(*) filter (status = 'returned') as returned_orders,
        coalesce(sum(gross_amount - discount_amount) filter (status = 'completed'), 0)
            as monetary,
        sum(discount_amount) filter (status = 'completed') as completed_discount,
        sum(gross_amount) filter (status = 'completed') as completed_gross,
        avg(quantity) filter (status = 'completed') as avg_basket_quantity,
        count(distinct product_category) filter (
            status = 'completed' and product_category != 'unknown') as category_diversity,
        max(transaction_ts) filter (status = 'completed') as last_purchase_at
    from transactions
    group by customer_id
),

features as (
    select
        customers.customer_id,
        date_diff('day', cast(purchases.last_purchase_at as date), as_of.as_of_date)
            as recency_days,
        coalesce(purchases.frequency, 0) as frequency,
        coalesce(purchases.monetary, 0) as monetary,
        case when purchases.frequency > 0 then purchases.monetary / purchases.frequency end
            as avg_order_value,
        purchases.avg_basket_quantity,
        case when purchases.completed_gross > 0
            then purchases.completed_discount / purchases.completed_gross end as discount_share,
        case when purchases.frequency + purchases.returned_orders > 0
            then purchases.returned_orders / (purchases.frequency + purchases.returned_orders)
        end as return_rate,
        coalesce(purchases.category_diversity, 0) as category_diversity,
        date_diff('day', customers.signup_date, as_of.as_of_date) as tenure_days,
        customers.age,
        customers.annual_income
    from customers
    cross join as_of
    left join purchases on customers.customer_id = purchases.customer_id
),

bounds as (
    select {bounds} from features
)

select features.customer_id, {prepared}
from features
cross join bounds
order by features.customer_id
"""


def engine() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the engine settings of profiles.yml (and its defaults)."""
    return duckdb.connect(config={
        "threads": os.environ.get("DUCKDB_THREADS", "2"),
        "memory_limit": os.environ.get("DUCKDB_MEMORY_LIMIT", "8GB")})


def fit_on_sample(matrix: np.ndarray, k: int, scaler: str, sample_size: int, n_init: int,
                  random_state: int) -> tuple[KMeans, np.ndarray, np.ndarray, np.ndarray]:
    """One KMeans fit at K on the reproducible sample of `matrix` (sample_indices), scaled
    with `scaler` fitted on that sample: the model, center, scale and the sample's rows."""
    rows = sample_indices(len(matrix), sample_size, random_state)
    center, scale = fit_scaler(matrix[rows], scaler)
    model = KMeans(n_clusters=k, init="k-means++", n_init=n_init, random_state=random_state)
    model.fit(apply_scaler(matrix[rows], center, scale))
    return model, center, scale, rows


def command_line(run: Callable[[Path, Path, int, dict], dict], doc: str, vars_help: str,
                 argv: Sequence[str] | None) -> int:
    """A floor script's command line: --data, --out, --k, --vars; runs `run` and prints its
    summary as the last stdout line (run_benchmark.py reads it)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="dir with the Parquet inputs")
    parser.add_argument("--out", type=Path, required=True, help="result Parquet file")
    parser.add_argument("--k", type=int, default=6, help="segments (no K sweep)")
    parser.add_argument("--vars", default="{}", help=vars_help)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.data, args.out, args.k, yaml.safe_load(args.vars) or {})))
    return 0


def features_sql(data_dir: Path, settings: dict) -> str:
    """The one query: prepared (winsorized, imputed, log1p) features of every customer."""
    lower_q, upper_q = settings["winsorize_percentiles"]
    bounds, prepared = [], []
    for name in NUMERIC_FEATURES:
        bounds += [f"quantile_cont({name}, {lower_q}) as {name}__lower",
                   f"quantile_cont({name}, 0.5) as {name}__median",
                   f"quantile_cont({name}, {upper_q}) as {name}__upper"]
        fill = "upper" if name in settings["impute_with_upper_bound"] else "median"
        clipped = (f"least(greatest(coalesce(features.{name}, {name}__{fill}), {name}__lower), "
                   f"{name}__upper)")
        if name in settings["log_transform_features"]:
            clipped = f"ln(1 + greatest({clipped}, 0))"
        prepared.append(f"{clipped} as {name}")
    data = str(data_dir).replace("'", "''")
    return FEATURES_SQL.format(data=data, bounds=", ".join(bounds),
                               prepared=", ".join(prepared))


def run(data_dir: Path, out: Path, k: int, overrides: dict) -> dict:
    """Query, fit, assign, write; returns step timings (s)."""
    settings = project_vars(overrides)
    features = list(settings["segmentation_features"])
    steps: dict[str, float] = {}
    start = time.perf_counter()
    con = engine()
    frame = pd.DataFrame(con.sql(features_sql(data_dir, settings)).fetchnumpy())
    steps["feature_query"] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    matrix = frame[features].to_numpy(dtype=float)
    model, center, scale, rows = fit_on_sample(
        matrix, k, settings["scaler"], int(settings["fit_sample_size"]),
        int(settings["n_init"]), int(settings["random_state"]))
    steps["kmeans_fit"] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    labels = pairwise_distances_argmin(apply_scaler(matrix, center, scale),
                                       model.cluster_centers_) + 1
    result = pd.DataFrame({"customer_id": frame["customer_id"], "segment_id": labels})
    con.register("result", result)
    con.execute(f"copy result to '{str(out).replace(chr(39), chr(39) * 2)}' (format parquet)")
    steps["assign_write"] = round(time.perf_counter() - start, 3)
    return {"steps": steps, "k": k, "customers": len(frame), "fit_rows": len(rows)}


def main(argv: Sequence[str] | None = None) -> int:
    return command_line(run, __doc__, "dbt-style var overrides (YAML)", argv)


if __name__ == "__main__":
    sys.exit(main())
