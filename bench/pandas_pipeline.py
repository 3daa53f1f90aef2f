"""The notebook way: pandas + scikit-learn on the same Parquet files as the dbt project.

What a data scientist would write in a notebook to get the same segments: read the whole
customers and transactions files into pandas, validate and clean them as the staging models
do (in essence: the same reject rules, without keeping a rejects table), compute the same
per-customer features as models/intermediate/ (int_transactions_aggregated_to_customers,
int_customer_attributes_banded, int_customer_features), winsorize / impute / log1p as
int_feature_bounds and int_customer_features_prepared do, then scale, sweep K and fit K-means
on the same reproducible sample with the same code (custseg.clustering.fit_segments), assign
every customer to its nearest centroid and write one result Parquet file.

It does less than `dbt build`: no campaign models, no RFM scores, preferred channel/category,
bands, marts, rule tree, run history or data tests. The benchmark compares it anyway, because
this is the work a notebook does to reach "a segment per customer".

    python bench/pandas_pipeline.py --data DIR --out result.parquet [--vars '{k_max: 8}']
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import pairwise_distances_argmin

from custseg.clustering import SegmentationConfig, apply_scaler, fit_segments

REPO = Path(__file__).resolve().parents[1]
# The feature catalogue's features, in its order (dbt_project.yml, var feature_catalogue).
with open(REPO / "dbt_project.yml") as _project:
    NUMERIC_FEATURES = list(yaml.safe_load(_project)["vars"]["feature_catalogue"])
CUSTOMER_COLUMNS = ["customer_id", "signup_date", "age", "gender", "city", "membership_tier",
                    "annual_income", "email"]
STATUSES = ("completed", "returned", "cancelled")
UNKNOWN_CATEGORIES = ("", "n/a", "na", "none", "null", "unknown")


def project_vars(overrides: dict) -> dict:
    """The dbt project's vars (dbt_project.yml) with --vars overrides applied, plus what the
    feature catalogue says: segmentation_features (its default set unless overridden),
    log_transform_features and impute_with_upper_bound."""
    with open(REPO / "dbt_project.yml") as handle:
        settings = {**yaml.safe_load(handle)["vars"], **overrides}
    catalogue = settings["feature_catalogue"]
    return {
        **settings,
        "segmentation_features": settings["segmentation_features"]
        or [name for name, entry in catalogue.items() if entry.get("default")],
        "log_transform_features": [name for name, entry in catalogue.items()
                                   if entry.get("transform") == "log1p"],
        "impute_with_upper_bound": [name for name, entry in catalogue.items()
                                    if entry.get("impute") == "upper_bound"],
    }


def segmentation_config(settings: dict) -> SegmentationConfig:
    """The same SegmentationConfig segment_model builds from the same vars."""
    return SegmentationConfig.from_mapping({
        "features": settings["segmentation_features"], "scaler": settings["scaler"],
        "k_min": settings["k_min"], "k_max": settings["k_max"],
        "k_selection": settings["k_selection"], "n_segments": settings["n_segments"],
        "random_state": settings["random_state"], "n_init": settings["n_init"],
        "fit_sample_size": settings["fit_sample_size"],
        "silhouette_sample_size": settings["silhouette_sample_size"],
    })


def clean_text(values: pd.Series) -> pd.Series:
    """Trimmed, lowercased, empty as missing (staging's nullif(lower(trim(x)), ''))."""
    cleaned = values.astype("str").str.strip().str.lower()
    return cleaned.mask(cleaned == "")


def to_number(values: pd.Series) -> pd.Series:
    """Numbers as floats; text that is not a number (or a Decimal column) becomes NaN/float."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    if pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
        return pd.to_numeric(values.str.strip(), errors="coerce")
    try:  # Parquet decimals arrive as Decimal objects
        return values.astype(float)
    except (TypeError, ValueError):
        return pd.to_numeric(values, errors="coerce").astype(float)


def clean_customers(raw: pd.DataFrame) -> pd.DataFrame:
    """Accepted customers: id present, one row per id (the most complete copy), clean values."""
    customers = raw.assign(customer_id=raw["customer_id"].str.strip())
    customers = customers[customers["customer_id"].notna() & (customers["customer_id"] != "")]
    customers = (customers.assign(non_null=raw[CUSTOMER_COLUMNS].notna().sum(axis=1))
                 .sort_values(["customer_id", "non_null"], ascending=[True, False])
                 .drop_duplicates("customer_id"))
    age = to_number(customers["age"])
    income = to_number(customers["annual_income"])
    return pd.DataFrame({
        "customer_id": customers["customer_id"],
        "signup_date": pd.to_datetime(customers["signup_date"], errors="coerce"),
        "age": np.floor(age.where(age.between(16, 110))),
        "annual_income": income.where(income >= 0),
    }).reset_index(drop=True)


def clean_transactions(raw: pd.DataFrame, customer_ids: pd.Series,
                       max_valid_ts: pd.Timestamp) -> pd.DataFrame:
    """Accepted transactions, cleaned, with gross and net amounts (staging's rules)."""
    tx = pd.DataFrame({
        "transaction_id": raw["transaction_id"].str.strip(),
        "customer_id": raw["customer_id"].str.strip(),
        "transaction_ts": pd.to_datetime(raw["transaction_ts"].str.strip(),
                                         format="%Y-%m-%d %H:%M:%S", errors="coerce"),
        "quantity": to_number(raw["quantity"]),
        "unit_price": to_number(raw["unit_price"]),
        "discount_amount": to_number(raw["discount_amount"]),
        "status": clean_text(raw["status"]).fillna("completed"),
    })
    category = clean_text(raw["product_category"]).str.replace(" ", "_")
    bad_category = (category.isna() | category.isin(UNKNOWN_CATEGORIES)
                    | ~category.str.fullmatch(r"[a-z][a-z0-9_&-]*").fillna(False).astype(bool))
    tx["product_category"] = category.mask(bad_category, "unknown")
    quantity = tx["quantity"].fillna(1)
    gross_limit = quantity * tx["unit_price"]
    valid = (
        tx["transaction_id"].notna() & (tx["transaction_id"] != "")
        & tx["customer_id"].notna() & (tx["customer_id"] != "")
        & tx["transaction_ts"].notna() & (tx["transaction_ts"] <= max_valid_ts)
        & (raw["quantity"].isna() | (tx["quantity"] > 0))
        & (raw["unit_price"].isna() | (tx["unit_price"] > 0))
        & (raw["discount_amount"].isna() | ((tx["discount_amount"] >= 0)
                                            & ~(tx["discount_amount"] > gross_limit)))
        & tx["status"].isin(STATUSES)
        & tx["customer_id"].isin(customer_ids)
    )
    tx = tx[valid].drop_duplicates("transaction_id")  # the first valid copy wins
    tx["quantity"] = tx["quantity"].fillna(1)
    tx["discount_amount"] = tx["discount_amount"].fillna(0).round(4)
    tx["gross_amount"] = (tx["quantity"] * tx["unit_price"]).round(4)
    tx["net_amount"] = tx["gross_amount"] - tx["discount_amount"]
    return tx


def customer_features(customers: pd.DataFrame, tx: pd.DataFrame) -> pd.DataFrame:
    """One row per accepted customer with the numeric features of int_customer_features."""
    as_of = tx["transaction_ts"].max().normalize() if len(tx) else customers["signup_date"].max()
    completed = tx[tx["status"] == "completed"]
    per_customer = completed.groupby("customer_id").agg(
        frequency=("transaction_id", "size"), monetary=("net_amount", "sum"),
        completed_discount=("discount_amount", "sum"), completed_gross=("gross_amount", "sum"),
        avg_basket_quantity=("quantity", "mean"), last_purchase_at=("transaction_ts", "max"))
    per_customer["category_diversity"] = (
        completed[completed["product_category"] != "unknown"]
        .groupby("customer_id")["product_category"].nunique())
    returned = tx[tx["status"] == "returned"].groupby("customer_id").size()
    features = customers.set_index("customer_id").join(per_customer)
    features["returned_orders"] = returned.reindex(features.index).fillna(0)
    for column in ("frequency", "monetary", "category_diversity"):
        features[column] = features[column].fillna(0)
    orders = features["frequency"]
    features["avg_order_value"] = (features["monetary"] / orders).where(orders > 0)
    features["discount_share"] = (features["completed_discount"] / features["completed_gross"]
                                  ).where(features["completed_gross"] > 0)
    touched = orders + features["returned_orders"]
    features["return_rate"] = (features["returned_orders"] / touched).where(touched > 0)
    features["recency_days"] = (as_of - features["last_purchase_at"].dt.normalize()).dt.days
    features["tenure_days"] = (as_of - features["signup_date"]).dt.days
    return features[NUMERIC_FEATURES].astype(float).reset_index()


def prepare(features: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Winsorize at the configured percentiles, impute (median or upper bound), log1p."""
    lower_q, upper_q = settings["winsorize_percentiles"]
    prepared = features[["customer_id"]].copy()
    for name in NUMERIC_FEATURES:
        values = features[name]
        lower, median, upper = values.quantile([lower_q, 0.5, upper_q])
        fill = upper if name in settings["impute_with_upper_bound"] else median
        clipped = values.fillna(fill).clip(lower, upper)
        prepared[name] = (np.log1p(clipped.clip(lower=0))
                          if name in settings["log_transform_features"] else clipped)
    return prepared


def run(data_dir: Path, out: Path, overrides: dict) -> dict:
    """The whole pipeline; returns step timings (s) and the chosen K."""
    settings = project_vars(overrides)
    config = segmentation_config(settings)
    steps: dict[str, float] = {}
    start = time.perf_counter()

    def step(name: str) -> None:
        nonlocal start
        now = time.perf_counter()
        steps[name] = round(now - start, 3)
        start = now

    raw_customers = pd.read_parquet(data_dir / "customers.parquet")
    raw_tx = pd.read_parquet(data_dir / "transactions.parquet")
    step("read_parquet")
    customers = clean_customers(raw_customers)
    tx = clean_transactions(raw_tx, customers["customer_id"], pd.Timestamp.now())
    del raw_tx
    step("validate_clean")
    features = customer_features(customers, tx)
    del tx
    step("features")
    prepared = prepare(features, settings).sort_values("customer_id", ignore_index=True)
    step("prepare")
    result = fit_segments(prepared, config)
    step("kmeans_sweep_fit")
    scaled = apply_scaler(prepared[result.features].to_numpy(dtype=float),
                          result.center, result.scale)
    features = features.set_index("customer_id").loc[prepared["customer_id"]].reset_index()
    features["segment_id"] = pairwise_distances_argmin(scaled, result.centroids) + 1
    features.to_parquet(out, index=False)
    step("assign_write")
    return {"steps": steps, "chosen_k": result.chosen_k, "customers": len(features),
            "fit_rows": result.n_fit_rows}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="dir with the Parquet inputs")
    parser.add_argument("--out", type=Path, required=True, help="result Parquet file")
    parser.add_argument("--vars", default="{}", help="dbt-style var overrides (YAML)")
    args = parser.parse_args(argv)
    summary = run(args.data, args.out, yaml.safe_load(args.vars) or {})
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
