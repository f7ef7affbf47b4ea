"""Behaviour: product views, searches, recommendation impressions and clicks, and the
recommendation publications they were drawn from, one row per event each."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from shoplake.config import Settings
from shoplake.delta import conform
from shoplake.lake import (
    PRODUCT_VIEWED,
    PRODUCT_VIEWS,
    RECOMMENDATION_CLICKED,
    RECOMMENDATION_CLICKS,
    RECOMMENDATION_IMPRESSIONS,
    RECOMMENDATION_PUBLICATIONS,
    RECOMMENDATION_SHOWN,
    RECOMMENDATIONS_PUBLISHED,
    SEARCH_PERFORMED,
    SEARCHES,
    event_data_schema,
)
from spark_jobs.silver.common import EVENT_KEYS, JobRun, SilverJob, merge_new, parse, run_jobs

VIEW_SCHEMA = event_data_schema(PRODUCT_VIEWED)
# `filters` is an object in the event; read as a string, Spark keeps its JSON text.
SEARCH_SCHEMA = event_data_schema(SEARCH_PERFORMED)
CLICK_SCHEMA = event_data_schema(RECOMMENDATION_CLICKED)
SHOWN_SCHEMA = event_data_schema(RECOMMENDATION_SHOWN)
PUBLISHED_SCHEMA = event_data_schema(RECOMMENDATIONS_PUBLISHED)


def transform_views(bronze: DataFrame) -> DataFrame:
    return conform(parse(bronze, VIEW_SCHEMA).select(*EVENT_KEYS, "d.*"), PRODUCT_VIEWS)


def transform_searches(bronze: DataFrame) -> DataFrame:
    return conform(parse(bronze, SEARCH_SCHEMA).select(*EVENT_KEYS, "d.*"), SEARCHES)


def transform_clicks(bronze: DataFrame) -> DataFrame:
    return conform(parse(bronze, CLICK_SCHEMA).select(*EVENT_KEYS, "d.*"), RECOMMENDATION_CLICKS)


def transform_impressions(bronze: DataFrame) -> DataFrame:
    return conform(
        parse(bronze, SHOWN_SCHEMA).select(*EVENT_KEYS, "d.*"), RECOMMENDATION_IMPRESSIONS
    )


def transform_publications(bronze: DataFrame) -> DataFrame:
    return conform(
        parse(bronze, PUBLISHED_SCHEMA).select(*EVENT_KEYS, "d.*"), RECOMMENDATION_PUBLICATIONS
    )


def load_views(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform_views(bronze), PRODUCT_VIEWS, lake_root)


def load_searches(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform_searches(bronze), SEARCHES, lake_root)


def load_clicks(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform_clicks(bronze), RECOMMENDATION_CLICKS, lake_root)


def load_impressions(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform_impressions(bronze), RECOMMENDATION_IMPRESSIONS, lake_root)


def load_publications(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform_publications(bronze), RECOMMENDATION_PUBLICATIONS, lake_root)


VIEWS_JOB = SilverJob("product_views", PRODUCT_VIEWED, (PRODUCT_VIEWS,), load_views)
SEARCHES_JOB = SilverJob("searches", SEARCH_PERFORMED, (SEARCHES,), load_searches)
CLICKS_JOB = SilverJob(
    "recommendation_clicks", RECOMMENDATION_CLICKED, (RECOMMENDATION_CLICKS,), load_clicks
)
IMPRESSIONS_JOB = SilverJob(
    "recommendation_impressions",
    RECOMMENDATION_SHOWN,
    (RECOMMENDATION_IMPRESSIONS,),
    load_impressions,
)


PUBLICATIONS_JOB = SilverJob(
    "recommendation_publications",
    RECOMMENDATIONS_PUBLISHED,
    (RECOMMENDATION_PUBLICATIONS,),
    load_publications,
)


JOBS = (VIEWS_JOB, SEARCHES_JOB, CLICKS_JOB, IMPRESSIONS_JOB, PUBLICATIONS_JOB)


def run(settings: Settings, lake_root: str | None = None) -> list[JobRun]:
    return run_jobs(settings, list(JOBS), lake_root)
