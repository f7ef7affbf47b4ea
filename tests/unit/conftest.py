"""Unit tests need no service; those that transform DataFrames share the suite's one Spark
session (a local one: they do not wait for the stack)."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession

from shoplake.config import Settings


@pytest.fixture(scope="session")
def spark(settings: Settings) -> SparkSession:
    """The suite's one Spark session (get_spark returns it if it runs); these tests need no
    Kafka, so they do not wait for the stack."""
    from shoplake.spark import get_spark

    return get_spark(settings, app_name="shoplake-tests")
