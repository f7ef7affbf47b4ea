"""Settings: every endpoint, port and path of shoplake, from `SHOPLAKE_*` variables or `.env`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, computed_field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_JWT_SECRET = "dev-only-change-me-in-production-0123456789abcdef"


class Settings(BaseSettings):
    """One settings object for the whole platform; the defaults run the local stack."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPLAKE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    environment: str = Field("local", description="local, ci or production")
    log_level: str = "INFO"

    # State of the local stack: data dirs, logs, pid files, JVM artifacts.
    state_dir: Path = REPO_ROOT / ".shoplake"
    # Services bind here; the clients below are built from it unless overridden.
    bind_host: str = "127.0.0.1"

    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_bootstrap: str | None = Field(
        None, description="host:port[,host:port]; defaults to the local broker"
    )
    kafka_heap: str = "512m"

    elasticsearch_port: int = 9200
    elasticsearch_transport_port: int = 9300
    elasticsearch_url: str | None = None
    elasticsearch_heap: str = "512m"

    redis_port: int = 6379
    redis_url: str | None = None

    postgres_port: int = 5432
    postgres_user: str = "shoplake"
    postgres_password: SecretStr = SecretStr("shoplake")
    postgres_db: str = "shoplake"
    database_url: SecretStr | None = Field(
        None, description="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db"
    )

    lake_root: Path | None = Field(None, description="root of the Delta Lake; a path or URI")
    spark_master: str = "local[2]"
    spark_driver_memory: str = "2g"
    spark_shuffle_partitions: int = 4
    mlflow_tracking_uri: str | None = None

    # Lake ingest and maintenance.
    bronze_trigger_seconds: float = 2.0
    bronze_max_offsets_per_trigger: int = 100_000
    lake_vacuum_retention_hours: int = Field(168, ge=0)

    # Serving: security, carts, limits, outbox.
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_algorithm: str = "HS256"
    jwt_access_ttl_s: int = 15 * 60
    jwt_refresh_ttl_s: int = 14 * 24 * 3600
    cart_ttl_s: int = 30 * 24 * 3600
    product_cache_ttl_s: int = 300
    rate_limit_auth_per_minute: int = 20
    rate_limit_write_per_minute: int = 240
    rate_limit_behaviour_per_minute: int = 600
    outbox_relay_in_app: bool = False
    outbox_relay_batch: int = 500
    outbox_relay_idle_s: float = 0.2
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # Inventory.
    reservation_ttl_s: int = Field(15 * 60, ge=1, description="unpaid holds expire after this")
    inventory_sweep_batch: int = Field(500, ge=1, description="expired holds per transaction")
    stock_gate_enabled: bool = Field(
        True, description="answer sold-out hot SKUs from Redis before Postgres is asked"
    )
    maintenance_interval_s: float = Field(
        60.0, ge=0, description="how often the API expires unpaid holds; 0 turns it off"
    )

    # Orders.
    orders_pending_grace_s: float = Field(
        120.0,
        ge=0,
        description="an order still PENDING_PAYMENT after this is settled by the sweeper",
    )
    orders_sweep_batch: int = Field(500, ge=1, description="pending orders per sweep run")

    # Search.
    search_alias: str = Field("products", description="the alias over the versioned indices")
    search_timeout_s: float = Field(1.5, gt=0, description="per request to Elasticsearch")
    search_breaker_failures: int = Field(3, ge=1, description="failures that open the circuit")
    search_breaker_open_s: float = Field(5.0, gt=0, description="fast-fail time once open")
    search_consumer_batch: int = Field(500, ge=1, description="events per bulk request")

    # Payments.
    payment_gateway: Literal["sandbox", "stripe"] = Field(
        "sandbox", description="which PaymentGateway serving uses: sandbox or stripe"
    )
    payment_timeout_s: float = Field(2.0, gt=0, description="per request to the gateway")
    payment_retry_attempts: int = Field(3, ge=1, description="tries per call on transient errors")
    payment_retry_backoff_s: float = Field(0.1, ge=0, description="first backoff, then doubled")
    payment_breaker_failures: int = Field(5, ge=1, description="failures in a row that open it")
    payment_breaker_open_s: float = Field(10.0, gt=0, description="fast-fail time once open")
    sandbox_gateway_port: int = 8099
    sandbox_gateway_url: str | None = Field(None, description="a sandbox gateway elsewhere")
    stripe_api_key: SecretStr | None = Field(None, description="sk_test_... or sk_live_...")
    stripe_api_base: str | None = Field(None, description="e.g. stripe-mock's http://host:port")

    # The gold layer: the Spark SQL endpoint (Thrift), dbt, quality gates, dashboards.
    spark_sql_port: int = Field(10000, description="the Spark SQL endpoint (HiveServer2 Thrift)")
    spark_sql_host: str | None = Field(
        None, description="a managed Spark SQL endpoint's host; default: the local server"
    )
    spark_sql_driver_memory: str = Field("1g", description="heap of the local endpoint's driver")
    dbt_threads: int = Field(4, ge=1, description="dbt's concurrent statements on the endpoint")
    gold_dir: Path | None = Field(
        None, description="dbt's target and logs, the quality gates' project and results"
    )
    dashboards_port: int = 8501
    dashboards_url: str | None = Field(None, description="dashboards served elsewhere")

    java_home: Path | None = Field(None, description="JDK for Kafka, Elasticsearch and Spark")
    service_user: str = Field(
        "shoplake", description="unprivileged user for Postgres and ES when the stack runs as root"
    )
    service_start_timeout_s: float = 120.0

    @model_validator(mode="after")
    def _no_dev_secret_in_production(self) -> Settings:
        if (
            self.environment == "production"
            and self.jwt_secret.get_secret_value() == DEV_JWT_SECRET
        ):
            raise ValueError(
                "set SHOPLAKE_JWT_SECRET: the development secret is refused in production"
            )
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def jvm_dir(self) -> Path:
        """Where Maven copies the stack's JVM artifacts (infra/jvm/pom.xml)."""
        return self.state_dir / "jvm"

    @property
    def kafka_bootstrap_servers(self) -> str:
        return self.kafka_bootstrap or f"{self.bind_host}:{self.kafka_port}"

    @property
    def elasticsearch_endpoint(self) -> str:
        return self.elasticsearch_url or f"http://{self.bind_host}:{self.elasticsearch_port}"

    @property
    def redis_endpoint(self) -> str:
        return self.redis_url or f"redis://{self.bind_host}:{self.redis_port}/0"

    @property
    def sandbox_gateway_endpoint(self) -> str:
        return self.sandbox_gateway_url or f"http://{self.bind_host}:{self.sandbox_gateway_port}"

    @property
    def database_endpoint(self) -> str:
        """The SQLAlchemy URL (contains the password: never log it)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        password = self.postgres_password.get_secret_value()
        return (
            f"postgresql+psycopg://{self.postgres_user}:{password}"
            f"@{self.bind_host}:{self.postgres_port}/{self.postgres_db}"
        )

    @property
    def lake_path(self) -> str:
        """The lake root as a string that Spark, delta-rs and DuckDB all accept."""
        return str(self.lake_root or self.state_dir / "lake")

    @property
    def spark_sql_endpoint(self) -> tuple[str, int]:
        """Host and port of the Spark SQL endpoint (the stack's Thrift server by default)."""
        return self.spark_sql_host or self.bind_host, self.spark_sql_port

    @property
    def gold_path(self) -> Path:
        return self.gold_dir or self.state_dir / "gold"

    @property
    def dashboards_endpoint(self) -> str:
        return self.dashboards_url or f"http://{self.bind_host}:{self.dashboards_port}"

    @property
    def mlflow_uri(self) -> str:
        return self.mlflow_tracking_uri or f"file://{self.state_dir / 'mlruns'}"

    def uses_local(self, service: str) -> bool:
        """True when the service is the local one that `shoplake stack` manages."""
        remote = {
            "kafka": self.kafka_bootstrap,
            "elasticsearch": self.elasticsearch_url,
            "redis": self.redis_url,
            "postgres": self.database_url,
            "sandbox-gateway": self.sandbox_gateway_url,
            "spark-sql": self.spark_sql_host,
            "dashboards": self.dashboards_url,
        }[service]
        return remote is None


def redact_url(url: str) -> str:
    """A URL without its password, fit for logs and status output."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def child_env(**overrides: object) -> dict[str, str]:
    """This process's environment plus `SHOPLAKE_<NAME>` overrides, for a child process."""
    env = dict(os.environ)
    env.update({f"SHOPLAKE_{name.upper()}": str(value) for name, value in overrides.items()})
    return env
