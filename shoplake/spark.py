"""The one Spark session factory: Delta Lake and the Kafka source, jars from the local JVM dir.

In the kernel because streaming (bronze) and spark_jobs (silver, reconcile) share it and may not
import each other. Importing it imports pyspark; `import shoplake` alone does not.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from pyspark.sql import SparkSession

from shoplake.config import Settings, get_settings

_lock = threading.Lock()


def spark_jars(settings: Settings) -> list[Path]:
    """The Delta and Kafka-source jars Maven copied (infra/jvm/spark); fails clearly if absent."""
    folder = settings.jvm_dir / "spark"
    jars = sorted(folder.glob("*.jar"))
    if not any(jar.name.startswith("delta-spark_") for jar in jars) or not any(
        jar.name.startswith("spark-sql-kafka-") for jar in jars
    ):
        raise RuntimeError(
            f"Delta / Kafka-source jars missing in {folder}: run `make jvm` "
            "(mvn -f infra/jvm/pom.xml package)."
        )
    return jars


def get_spark(settings: Settings | None = None, app_name: str = "shoplake") -> SparkSession:
    """The process-wide Spark session, created on first use with Delta and Kafka configured."""
    settings = settings or get_settings()
    with _lock:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        warehouse = Path(settings.lake_path) / "_warehouse"
        builder = (
            SparkSession.builder.appName(app_name)
            .master(settings.spark_master)
            .config("spark.jars", ",".join(str(jar) for jar in spark_jars(settings)))
            .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
            .config(
                "spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog"
            )
            .config("spark.driver.memory", settings.spark_driver_memory)
            .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
            .config("spark.sql.warehouse.dir", str(warehouse))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            # Small local tables: skip the auto-compaction and stats work that helps only at scale.
            .config("spark.databricks.delta.snapshotPartitions", "2")
            .config("spark.sql.streaming.stopGracefullyOnShutdown", "true")
        )
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("WARN")
        # Python workers (UDFs, foreachBatch) must run this interpreter, whose venv has pandas,
        # pydantic and shoplake, not whichever python3 is first on PATH; a UDF takes the
        # executable the context holds when the UDF is built.
        spark.sparkContext.pythonExec = sys.executable
        return spark
