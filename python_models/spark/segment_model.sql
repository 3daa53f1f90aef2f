{#-
    segment_model on Spark: the run history that `segment build --target spark` appends to
    (custseg.spark_fit, the same fit code as the DuckDB Python model), under the name the rest
    of the project refs. dbt-spark runs Python models only on Databricks, so on a Spark
    session or cluster the fit runs between two dbt steps and this view reads its table.
-#}
{{ config(enabled=target.type == 'spark', materialized='view') }}

with

history as (
    select * from {{ api.Relation.create(schema=this.schema, identifier='segment_model_history') }}
)

select * from history
