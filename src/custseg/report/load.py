"""Reading the marts the report needs, read-only, from the marts schema of the serving DuckDB file
(custseg.serving; the build file has the same schema, so --db may name either)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

BUILD_HINT = "run `dbt build` first (it builds every mart and publishes the serving file)"

# Where dbt builds the marts on DuckDB (dbt_project.yml: the marts layer's schema, prefixed with
# the target schema `main`) and where publishing copies them in the serving file; the report
# reads nothing else.
MARTS_SCHEMA = "main_marts"

# Every mart the report reads, with the columns it reads (a missing column is an error too).
MART_COLUMNS: dict[str, tuple[str, ...]] = {
    "segment_profiles": (
        "segment_id", "customers", "customer_share", "revenue", "revenue_share",
        "avg_monetary", "avg_frequency", "avg_recency_days", "purchaser_share",
    ),
    "segment_feature_profiles": (
        "segment_id", "feature", "is_clustering_feature", "segment_mean", "overall_mean",
        "overall_stddev", "mean_diff_sd",
    ),
    "segment_k_selection": (
        "k", "inertia", "silhouette", "davies_bouldin", "calinski_harabasz", "is_chosen",
    ),
    "segment_centroids": (
        "segment_id", "feature", "centroid_scaled", "scaler_center", "scaler_scale",
        "transform", "lower_bound", "upper_bound", "impute_value",
    ),
    "data_quality_summary": ("source", "reason", "rows", "share_of_source"),
    "dim_features": ("feature", "feature_label"),
    "dim_segments": ("segment_id", "segment_name", "segment_description", "name_source", "traits"),
    "segment_runs": (
        "run_number", "run_id", "fitted_at", "customers", "fit_rows", "feature_fingerprint",
        "features", "scaler", "k_min", "k_max", "k_selection", "chosen_k", "random_state",
        "silhouette", "rules_accuracy", "rules_macro_f1", "warnings", "error", "is_latest",
        "run_type", "reason", "fit_run_number", "as_of_date", "fit_age_days", "refit",
        "drift_checks", "drifted_checks", "is_latest_run",
    ),
    "segment_drift": (
        "run_number", "check_name", "check_type", "fit_run_number", "reference_value",
        "current_value", "value", "threshold", "is_drifted", "is_latest_run",
    ),
    "segment_rules": ("segment_id", "rule_number", "rule", "customers", "precision", "recall"),
    "segment_feature_importance": ("feature", "variance_explained", "tree_importance"),
    "segment_feature_distributions": (
        "segment_id", "feature", "customers", "mean", "p25", "median", "p75",
    ),
    "segment_feature_histograms": (
        "segment_id", "feature", "bin_number", "bin_lower", "bin_upper", "customers",
    ),
    "segment_offer_response": (
        "offer_type", "segment_id", "segment_name", "campaigns", "response_rate",
        "offer_response_rate", "lift", "lift_ci_lower", "campaigns_clearly_better",
        "is_best_responder",
    ),
    "segment_customer_map": ("point_number", "segment_id", "feature", "scaled_value"),
    "segment_level_shares": (
        "segment_id", "feature", "level", "level_order", "customers", "share", "overall_share",
    ),
    "segment_campaign_performance": (
        "campaign_id", "campaign_name", "offer_type", "channel", "campaign_start_date",
        "campaign_contacted", "campaign_responded", "campaign_response_rate", "segment_id",
        "segment_name", "contacted", "responded", "response_rate", "response_rate_ci_lower",
        "response_rate_ci_upper", "revenue_per_contact", "lift", "lift_ci_lower", "lift_ci_upper",
    ),
}

# Order that makes every table deterministic.
MART_ORDER: dict[str, str] = {
    "segment_profiles": "segment_id",
    "segment_feature_profiles": "segment_id, feature",
    "segment_k_selection": "k",
    "segment_centroids": "segment_id, feature",
    "data_quality_summary": "source, reason nulls first",
    "dim_segments": "segment_id",
    "dim_features": "feature_order",
    "segment_runs": "run_number",
    "segment_drift": "run_number, check_type, check_name",
    "segment_rules": "segment_id, rule_number",
    "segment_feature_importance": "feature",
    "segment_feature_distributions": "feature, segment_id",
    "segment_feature_histograms": "feature, segment_id, bin_number",
    "segment_campaign_performance": "campaign_start_date, campaign_id, segment_id",
    "segment_offer_response": "offer_type, segment_id",
    "segment_customer_map": "point_number, feature",
    "segment_level_shares": "level_order, segment_id",
}

class ReportError(Exception):
    """A problem the user fixes (missing database or mart), reported as one line."""


@dataclass(frozen=True)
class Marts:
    """The marts one report is built from."""

    db_path: Path
    tables: dict[str, pd.DataFrame]
    customers_total: int
    outliers_total: int = 0

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def connect_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection, or a ReportError naming what to do."""
    if not db_path.is_file():
        raise ReportError(f"DuckDB file {db_path} not found; {BUILD_HINT} (or pass --db PATH)")
    try:
        return duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as error:
        first_line = str(error).splitlines()[0]
        raise ReportError(f"cannot open {db_path} read-only: {first_line}") from error


def existing_tables(con: duckdb.DuckDBPyConnection, schema: str = MARTS_SCHEMA) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = current_database() and table_schema = ?", [schema]).fetchall()
    return {name for (name,) in rows}


def read_mart(con: duckdb.DuckDBPyConnection, name: str,
              schema: str = MARTS_SCHEMA) -> pd.DataFrame:
    columns = ", ".join(f'"{column}"' for column in MART_COLUMNS[name])
    try:
        return con.sql(
            f"select {columns} from {schema}.{name} order by {MART_ORDER[name]}").df()
    except duckdb.BinderException as error:
        raise ReportError(
            f"mart {name} lacks a column the report reads ({str(error).splitlines()[0]}); "
            f"{BUILD_HINT}"
        ) from error


def with_feature_labels(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every mart frame with a `feature` column gains `feature_label` from dim_features (a
    categorical feature, which dim_features does not list, is labelled by its name)."""
    labels = tables["dim_features"].set_index("feature")["feature_label"]
    return {
        name: frame.assign(feature_label=frame["feature"].map(labels).fillna(frame["feature"]))
        if "feature" in frame.columns and name != "dim_features" else frame
        for name, frame in tables.items()
    }


def load_marts(db_path: Path, schema: str = MARTS_SCHEMA) -> Marts:
    """Reads every mart of MART_COLUMNS plus the customer and outlier counts from `schema`;
    ReportError if one is missing."""
    with connect_read_only(db_path) as con:
        present = existing_tables(con, schema)
        missing = [name for name in (*MART_COLUMNS, "dim_customer_segments")
                   if name not in present]
        if missing:
            raise ReportError(f"mart {', '.join(missing)} missing from schema {schema} of "
                              f"{db_path}; {BUILD_HINT}")
        tables = with_feature_labels(
            {name: read_mart(con, name, schema) for name in MART_COLUMNS})
        (total, outliers) = con.sql(
            "select count(*), count(*) filter (where is_outlier) "
            f"from {schema}.dim_customer_segments").fetchall()[0]
    return Marts(db_path=db_path, tables=tables, customers_total=total, outliers_total=outliers)
