"""The Spark SQL endpoint: Spark's Thrift server (HiveServer2 protocol) with Delta, on loopback.

It runs from pyspark's own jars (`HiveThriftServer2` ships in `pyspark/jars`; Maven does not
serve that artifact) through pyspark's `spark-submit`, with the Delta jars Maven fetched on both
`--jars` and `--driver-class-path` (without the latter the Delta catalog is "not found"). Its
metastore is an embedded Derby under the service's own folder, which allows one process: the
server owns it, and every other process (Spark jobs, dbt, analysts) goes through the endpoint
or reads the Delta files by path. Once healthy it names every silver and gold table of the
registry (`shoplake.sql_endpoint.register_tables`), so a fresh metastore gets them all back.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from shoplake.config import child_env
from shoplake.stack.process import StackError
from shoplake.stack.service import LocalService, java_executable

THRIFT_SERVER = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"

# Spark logs every statement at INFO; the endpoint's log keeps warnings and its own start-up.
LOG4J2 = """\
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_OUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.thriftserver.name = org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
logger.thriftserver.level = info
logger.metastore.name = org.apache.hadoop.hive.metastore
logger.metastore.level = error
# "No Hive SerDe for delta" (expected: Delta tables are Spark's own), "no job to cancel", and
# unknown HiveConf names: one line per statement, none of them a problem.
logger.catalog.name = org.apache.spark.sql.hive.HiveExternalCatalog
logger.catalog.level = error
logger.scheduler.name = org.apache.spark.scheduler.DAGScheduler
logger.scheduler.level = error
logger.hiveconf.name = org.apache.hadoop.hive.conf.HiveConf
logger.hiveconf.level = error
"""


def spark_home() -> Path:
    """pyspark's folder: its `bin/spark-submit` and `jars/` are a Spark distribution."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("pyspark is not installed: run `make setup`")
    return Path(next(iter(spec.submodule_search_locations)))


class SparkSqlService(LocalService):
    name = "spark-sql"
    # A whole Spark driver with its Hive metastore: ready in about 35 s on a quiet machine, but
    # more than 100 s on a shared one (load 20), where the other services still start in time.
    start_timeout_scale = 3.0

    @property
    def port(self) -> int:
        return self.settings.spark_sql_port

    @property
    def endpoint(self) -> str:
        host, port = self.settings.spark_sql_endpoint
        return f"jdbc:hive2://{host}:{port}/default"

    @property
    def metastore(self) -> Path:
        return self.home / "metastore_db"

    def _delta_jars(self) -> list[Path]:
        jars = sorted((self.settings.jvm_dir / "spark").glob("delta-*.jar"))
        if not any(jar.name.startswith("delta-spark_") for jar in jars):
            raise StackError(
                f"Delta jars missing in {self.settings.jvm_dir / 'spark'}: run `make jvm` "
                "(Maven copies them there)."
            )
        return jars

    def prepare(self) -> None:
        (self.home / "conf").mkdir(parents=True, exist_ok=True)
        (self.home / "conf" / "log4j2.properties").write_text(LOG4J2)
        (self.home / "tmp").mkdir(exist_ok=True)
        Path(self.settings.lake_path, "_warehouse").mkdir(parents=True, exist_ok=True)

    def command(self) -> tuple[Sequence[str], Mapping[str, str]]:
        s = self.settings
        home = spark_home()
        jars = self._delta_jars()
        java = java_executable(s).resolve()
        conf = {
            "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
            "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
            "spark.sql.catalogImplementation": "hive",
            # The same warehouse as every Spark session of the platform (shoplake.spark).
            "spark.sql.warehouse.dir": str(Path(s.lake_path) / "_warehouse"),
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={self.metastore};create=true"
            ),
            # Derby's own files (derby.log) next to its database, not in the working directory.
            "spark.driver.extraJavaOptions": (
                f"-Dderby.system.home={self.home} -Djava.io.tmpdir={self.home / 'tmp'}"
            ),
            "spark.local.dir": str(self.home / "tmp"),
            "spark.sql.shuffle.partitions": str(s.spark_shuffle_partitions),
            "spark.sql.session.timeZone": "UTC",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.databricks.delta.snapshotPartitions": "2",
        }
        argv = [
            str(home / "bin" / "spark-submit"),
            "--class",
            THRIFT_SERVER,
            "--name",
            "shoplake-spark-sql",
            "--master",
            s.spark_master if s.spark_master.startswith("local") else "local[2]",
            "--driver-memory",
            s.spark_sql_driver_memory,
            "--jars",
            ",".join(str(jar) for jar in jars),
            "--driver-class-path",
            ":".join(str(jar) for jar in jars),
            *(item for key, value in conf.items() for item in ("--conf", f"{key}={value}")),
            "--hiveconf",
            f"hive.server2.thrift.port={self.port}",
            "--hiveconf",
            f"hive.server2.thrift.bind.host={s.bind_host}",
            "spark-internal",
        ]
        env = child_env()
        env.update(
            {
                "SPARK_HOME": str(home),
                "JAVA_HOME": str(java.parent.parent),
                "SPARK_CONF_DIR": str(self.home / "conf"),
                "SPARK_LOG_DIR": str(self.home),
                "SPARK_LOCAL_IP": s.bind_host,
            }
        )
        return argv, env

    def healthy(self) -> bool:
        # An open port is not readiness: the server listens before its session can run a query.
        return self._ask("select 1") == "1"

    def version(self) -> str | None:
        answer = self._ask("select version()")
        return answer.split()[0] if answer else None

    def _ask(self, sql: str) -> str | None:
        from shoplake.sql_endpoint import query

        # Until the server listens, thrift logs every refused connection as an error; the probe
        # expects those, and `stack up` reports the wait itself.
        logging.getLogger("thrift.transport.TSocket").setLevel(logging.CRITICAL)
        try:
            rows = query(self.settings, sql, timeout_s=10.0)
        except Exception:
            return None
        return str(rows[0][0]) if rows else None

    def after_start(self) -> None:
        """Name every silver and gold table of the registry that the metastore lacks."""
        from shoplake.sql_endpoint import cursor, register_tables

        with cursor(self.settings) as cur:
            register_tables(cur, self.settings.lake_path)
