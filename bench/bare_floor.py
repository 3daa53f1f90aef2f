"""The bare floor: one DuckDB aggregate of the Parquet files, one K-means fit, every customer
assigned.

The least work that still yields a segment per customer from the same inputs: a single
`group by customer_id` over transactions.parquet for four plain numeric features (recency in
days to the latest date in the file, order count, total spend, average order value), pulled
into Arrow/NumPy, then one KMeans fit at a fixed K on a reproducible `fit_sample_size` sample
(custseg.clustering.sample_indices) with standard scaling and the K-means settings of
custseg.clustering.SegmentationConfig (random_state, n_init), and every customer assigned to
its nearest centroid.

Unlike bench/duckdb_floor.py (the same-work floor) there is no validation, no trimming, no
dedup, no status filter, no customers file, no winsorizing and no imputation beyond what keeps
NaN out of the matrix: every distinct raw customer_id in transactions.parquet gets a segment,
and customers without transactions get none. The segments are therefore not the project's;
only the time and memory are the point.

    python bench/bare_floor.py --data DIR --out result.parquet [--k 6] [--vars '{...}']
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.metrics import pairwise_distances_argmin

from custseg.clustering import SegmentationConfig, apply_scaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from duckdb_floor import command_line, engine, fit_on_sample  # noqa: E402

FEATURES = ("recency_days", "orders", "spend", "avg_order_value")
# The settings of the fit that --vars may override (the benchmark passes the same to all).
FIT_SETTINGS = ("random_state", "n_init", "fit_sample_size")

AGGREGATE_SQL = """
select customer_id, recency_days, orders, spend, spend / orders as avg_order_value
from (
    select
        customer_id,
        -- Unparseable timestamps are null; a customer with none parseable gets the oldest date.
        date_diff('day', coalesce(max(ts), min(min(ts)) over ()),
                  max(max(ts)) over ())::double as recency_days,
        count(*)::double as orders,
        coalesce(sum(quantity * unit_price - coalesce(discount_amount, 0)), 0)::double as spend
    from (
        select customer_id, try_cast(transaction_ts as timestamp)::date as ts,
               quantity, unit_price, discount_amount
        from read_parquet('{data}/transactions.parquet')
    )
    group by customer_id
)
-- A stable row order: the fit sample is drawn by row position.
order by customer_id
"""


def fit_config(k: int, overrides: dict) -> SegmentationConfig:
    """SegmentationConfig's defaults at a fixed K; --vars may override FIT_SETTINGS."""
    return SegmentationConfig.from_mapping({
        "features": FEATURES, "n_segments": k,
        **{key: overrides[key] for key in FIT_SETTINGS if key in overrides}})


def aggregate(data_dir: Path) -> pa.Table:
    """The one query: customer_id and FEATURES per distinct customer_id of the transactions."""
    con = engine()
    data = str(data_dir).replace("'", "''")
    return con.sql(AGGREGATE_SQL.format(data=data)).to_arrow_table()


def run(data_dir: Path, out: Path, k: int, overrides: dict) -> dict:
    """Aggregate, fit, assign, write; returns step timings (s) and counts."""
    config = fit_config(k, overrides)
    steps: dict[str, float] = {}
    start = time.perf_counter()
    table = aggregate(data_dir)
    steps["aggregate_query"] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    matrix = np.column_stack([table.column(name).to_numpy() for name in FEATURES])
    model, center, scale, _ = fit_on_sample(matrix, k, "standard", config.fit_sample_size,
                                            config.n_init, config.random_state)
    steps["kmeans_fit"] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    labels = pairwise_distances_argmin(apply_scaler(matrix, center, scale),
                                       model.cluster_centers_) + 1
    pq.write_table(pa.table({"customer_id": table.column("customer_id"),
                             "segment_id": pa.array(labels, pa.int32())}), out)
    steps["assign_write"] = round(time.perf_counter() - start, 3)
    return {"steps": steps, "k": k, "customers": table.num_rows,
            "fit_rows": min(table.num_rows, config.fit_sample_size)}


def main(argv: Sequence[str] | None = None) -> int:
    return command_line(run, __doc__,
                        f"overrides of {', '.join(FIT_SETTINGS)} (YAML); others ignored", argv)


if __name__ == "__main__":
    sys.exit(main())
