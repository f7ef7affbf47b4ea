"""Products: the change table `silver.product_changes` (the history) and the latest state
`silver.products`, folded by the product row's version, then event time."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from shoplake.config import Settings
from shoplake.delta import conform, read_table
from shoplake.lake import CATALOG_TYPES, PRODUCT_CHANGES, PRODUCTS, event_data_schema
from spark_jobs.silver.common import JobRun, SilverJob, merge_new, merge_state, parse, run_jobs

DATA_SCHEMA = event_data_schema(CATALOG_TYPES)
CREATED, UPDATED, PRICE_CHANGED, DISCONTINUED = CATALOG_TYPES


def transform_changes(bronze: DataFrame) -> DataFrame:
    """One `silver.product_changes` row per catalog event; `attributes` stays JSON text."""
    parsed = parse(bronze, DATA_SCHEMA)
    type_ = F.col("event_type")
    return conform(
        parsed.select(
            "event_id",
            "event_type",
            "event_time",
            "event_date",
            "d.*",
        )
        .select(
            "*",
            F.when(type_ == PRICE_CHANGED, F.col("new_price_cents"))
            .otherwise(F.col("price_cents"))
            .alias("price_cents_"),
            F.when(type_ == DISCONTINUED, F.lit("discontinued"))
            .otherwise(F.col("status"))
            .alias("status_"),
        )
        .drop("price_cents", "status")
        .withColumnsRenamed({"price_cents_": "price_cents", "status_": "status"}),
        PRODUCT_CHANGES,
    )


def fold_products(changes: DataFrame) -> DataFrame:
    """Each product's state: full-state fields from the newest create/update, price and status
    from the newest event that carries them; newest means highest (version, time, id)."""
    order = F.struct("version", "event_time", "event_id")
    type_ = F.col("event_type")
    full = type_.isin(CREATED, UPDATED)

    def latest(column: str, when: Column) -> Column:
        return F.max_by(F.col(column), F.when(when, order)).alias(column)

    return conform(
        changes.groupBy("sku").agg(
            F.max("version").alias("version"),
            *(
                latest(c, full)
                for c in ("name", "description", "brand", "category_path", "attributes")
            ),
            latest("image_urls", full),
            latest("price_cents", F.col("price_cents").isNotNull()),
            latest("currency", F.col("currency").isNotNull()),
            latest("status", F.col("status").isNotNull()),
            F.min(F.when(type_ == CREATED, F.col("event_time"))).alias("created_at"),
            F.max(F.when(type_ == PRICE_CHANGED, F.col("event_time"))).alias("price_changed_at"),
            F.min(F.when(type_ == DISCONTINUED, F.col("event_time"))).alias("discontinued_at"),
            F.max("event_time").alias("updated_at"),
            F.max_by(F.col("event_id"), order).alias("last_event_id"),
        ),
        PRODUCTS,
    )


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    changes = transform_changes(bronze).persist()
    try:
        merge_new(spark, changes, PRODUCT_CHANGES, lake_root)
        touched = changes.select("sku").distinct()
        history = read_table(spark, PRODUCT_CHANGES, lake_root).join(
            F.broadcast(touched), "sku", "left_semi"
        )
        merge_state(spark, fold_products(history), PRODUCTS, lake_root)
    finally:
        changes.unpersist()


JOB = SilverJob("products", CATALOG_TYPES, (PRODUCT_CHANGES, PRODUCTS), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
