"""The segmentation fit on Spark: the same run as the DuckDB Python model, data through Spark.

dbt-spark runs dbt Python models only on Databricks (dbt-spark#415), so on a Spark target
`segment build` runs the fit between two dbt steps: it reads the feature tables (raw and
prepared), the feature bounds, the as-of date, the data-quality counts and the run history
through a SparkSession, calls `custseg.run.segmentation_run` exactly as
python_models/segment_model.py does (fit or score with the latest fit, under var refit), and
appends the run to the Parquet table `segment_model_history`, which the Spark variant of
segment_model (python_models/spark/segment_model.sql) reads under the model's usual name.

Each layer is its own Spark database (custseg_intermediate, custseg_marts, ...: dbt_project.yml),
so the tables are named by the relations dbt's manifest gives them, never by bare name; the
history sits in segment_model's database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from custseg.run import (
    BOUNDS_COLUMNS,
    RUN_SCHEMA,
    Run,
    RunContext,
    check_history_columns,
    input_rows,
    next_run_number,
    raw_feature_columns,
    resolve_features,
    segmentation_run,
)

if TYPE_CHECKING:  # pyspark is the optional [spark] extra
    from pyspark.sql import DataFrame, SparkSession

HISTORY_TABLE = "segment_model_history"
# The models the fit reads (the DuckDB Python model's dbt.ref()s).
FIT_INPUTS = ("int_feature_bounds", "data_quality_summary", "int_customer_features_prepared",
              "int_customer_features", "int_as_of_date")

SPARK_TYPES = {
    pa.int64(): "bigint", pa.int32(): "int", pa.string(): "string", pa.float64(): "double",
    pa.bool_(): "boolean", pa.timestamp("us"): "timestamp", pa.date32(): "date",
}


@dataclass(frozen=True)
class SparkFitResult:
    """What the Spark step appended: the run number, fit or score and why, and whether it
    worked."""

    run_number: int
    customers: int
    chosen_k: int | None
    error: str | None
    run_type: str = "fit"
    reason: str | None = None
    fit_run_number: int | None = None


def spark_type(arrow_type: pa.DataType) -> str:
    """The Spark DDL type of an Arrow type of RUN_SCHEMA (scalars and lists of structs)."""
    if pa.types.is_list(arrow_type):
        return f"array<{spark_type(arrow_type.value_type)}>"
    if pa.types.is_struct(arrow_type):
        fields = ", ".join(f"{field.name}: {spark_type(field.type)}" for field in arrow_type)
        return f"struct<{fields}>"
    return SPARK_TYPES[arrow_type]


def history_schema() -> str:
    """The history table's Spark schema (DDL): RUN_SCHEMA, as the DuckDB segment_model."""
    return ", ".join(f"{field.name} {spark_type(field.type)}" for field in RUN_SCHEMA)


def load_spark_features(table: DataFrame, features: tuple[str, ...]) -> pd.DataFrame:
    """customer_id and the wanted feature columns, sorted by customer_id (as load_features).

    Only those columns leave Spark (through Arrow). The sort happens in pandas: Python sorts
    strings by code point, which is the byte order DuckDB's and Spark's `order by` use.
    """
    present = [name for name in dict.fromkeys(features) if name in table.columns]
    frame = table.select("customer_id", *present).toPandas()
    frame = frame.sort_values("customer_id", kind="stable", ignore_index=True)
    types = dict(table.dtypes)
    for name in present:
        if types[name] not in ("string", "boolean"):  # text: a categorical feature
            frame[name] = frame[name].astype("float64")
    return frame


def load_spark_raw_features(table: DataFrame, numeric: list[str],
                            categorical: list[str]) -> pd.DataFrame:
    """customer_id, the numeric raw features as doubles and the categorical ones as stored,
    sorted by customer_id (as custseg.clustering.load_raw_features)."""
    from pyspark.sql import functions as F

    columns = [F.col("customer_id")]
    columns += [F.col(name).cast("double").alias(name) for name in numeric
                if name in table.columns]
    columns += [F.col(name) for name in categorical if name in table.columns]
    frame = table.select(*columns).toPandas()
    return frame.sort_values("customer_id", kind="stable", ignore_index=True)


def read_history(spark: SparkSession, table: str) -> list[Run]:
    """The run history so far (empty before the first run), as custseg.run reads it."""
    if not spark.catalog.tableExists(table):
        return []
    stored = spark.table(table)
    check_history_columns(stored.columns)
    return [row.asDict(recursive=True) for row in stored.collect()]


def write_history(spark: SparkSession, run: Run, table: str, replace: bool) -> None:
    """Append one run to the history table (create or replace it first when asked)."""
    frame = spark.createDataFrame([run], schema=history_schema())
    if replace or not spark.catalog.tableExists(table):
        spark.sql(f"drop table if exists {table}")
        frame.write.format("parquet").saveAsTable(table)
    else:
        frame.write.format("parquet").mode("append").saveAsTable(table)


def fit_on_spark(
    spark: SparkSession,
    inputs: Mapping[str, str],
    schema: str,
    settings: Mapping[str, Any],
    run_id: str,
    full_refresh: bool = False,
    policy: Mapping[str, Any] | None = None,
) -> SparkFitResult:
    """Fit (or score with the latest fit, under the refit `policy`) on the tables `inputs`
    names (FIT_INPUTS -> database.table) and append the run to the history table in database
    `schema` (segment_model's)."""
    history_table = f"{schema}.{HISTORY_TABLE}"
    history = [] if full_refresh else read_history(spark, history_table)
    bounds = spark.table(inputs["int_feature_bounds"]).orderBy("feature_order").select(
        *BOUNDS_COLUMNS).collect()
    settings, preparation, defaults = resolve_features(
        settings, [dict(zip(BOUNDS_COLUMNS, row, strict=True)) for row in bounds])
    quality = spark.table(inputs["data_quality_summary"]).toPandas()
    (as_of_date,) = spark.table(inputs["int_as_of_date"]).select("as_of_date").first()
    context = RunContext(
        run_number=next_run_number(history), run_id=run_id,
        fitted_at=datetime.now(UTC).replace(tzinfo=None),
        input_rows=input_rows(quality), as_of_date=as_of_date)
    numeric, categorical = raw_feature_columns(history, settings, preparation, defaults)
    raw = load_spark_raw_features(spark.table(inputs["int_customer_features"]), numeric,
                                  categorical)

    def load_prepared(features: tuple[str, ...]) -> pd.DataFrame:
        return load_spark_features(spark.table(inputs["int_customer_features_prepared"]),
                                   features)

    run = segmentation_run(raw, load_prepared, settings, preparation, policy or {}, history,
                           context, defaults)
    write_history(spark, run, history_table, replace=full_refresh)
    return SparkFitResult(
        run_number=context.run_number, customers=len(raw),
        chosen_k=run["chosen_k"], error=run["error"], run_type=run["run_type"],
        reason=run["reason"], fit_run_number=run["fit_run_number"])
