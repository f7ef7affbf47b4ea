"""Settings: every endpoint, port and path of shoplake, from `SHOPLAKE_*` variables or `.env`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, computed_field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_JWT_SECRET = "dev-only-change-me-in-production-0123456789abcdef"
# The only environments where the development JWT secret is accepted.
DEVELOPMENT_ENVIRONMENTS = frozenset({"local", "test"})


class ShippingBand(BaseModel):
    """Parcels up to `up_to_g` grams cost `cents` (minor units of the order's currency)."""

    up_to_g: int = Field(gt=0, le=1_000_000)
    cents: int = Field(ge=0, le=10_000_000)


class ShippingRate(BaseModel):
    """One destination's rates: weight bands in ascending order, a price per started kilogram
    above the heaviest band, and an optional order value from which shipping is free."""

    bands: list[ShippingBand] = Field(min_length=1)
    per_extra_kg_cents: int = Field(0, ge=0, le=10_000_000)
    free_over_cents: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _ascending(self) -> ShippingRate:
        limits = [band.up_to_g for band in self.bands]
        if limits != sorted(set(limits)):
            raise ValueError("shipping bands must have strictly ascending up_to_g")
        return self


def _rate(*bands: tuple[int, int], extra: int, free: int | None = None) -> ShippingRate:
    return ShippingRate(
        bands=[ShippingBand(up_to_g=g, cents=c) for g, c in bands],
        per_extra_kg_cents=extra,
        free_over_cents=free,
    )


# By ISO country code; "*" is every other destination. Prices in minor units.
DEFAULT_SHIPPING_RATES: dict[str, ShippingRate] = {
    "NL": _rate((2_000, 495), (10_000, 695), (30_000, 1_295), extra=50, free=5_000),
    "BE": _rate((2_000, 895), (10_000, 1_295), (30_000, 1_995), extra=75),
    "DE": _rate((2_000, 895), (10_000, 1_295), (30_000, 1_995), extra=75),
    "FR": _rate((2_000, 995), (10_000, 1_495), (30_000, 2_295), extra=75),
    "GB": _rate((2_000, 1_195), (10_000, 1_695), (30_000, 2_995), extra=100),
    "US": _rate((2_000, 1_995), (10_000, 2_995), (30_000, 4_995), extra=150),
    "*": _rate((2_000, 2_495), (10_000, 3_495), (30_000, 5_995), extra=200),
}


class Settings(BaseSettings):
    """One settings object for the whole platform; the defaults run the local stack."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPLAKE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    environment: str = Field(
        "local", description="local or test (the development JWT secret works), or any other"
    )
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
    # A backlog drains in batches this large: each batch pays ~2 s whatever its size (Delta's
    # append with its transaction lookup, the checkpoint), so 100k-record batches drained 10k
    # events/s and 500k ones 23k (ARCHITECTURE.md, "Where bronze's time goes").
    bronze_max_offsets_per_trigger: int = Field(500_000, ge=1)
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
    # Per signed-in user (the token's subject), never per address: see ARCHITECTURE.md.
    rate_limit_checkout_per_minute: int = Field(30, ge=1, description="checkouts per user")
    rate_limit_cart_per_minute: int = Field(
        240, ge=1, description="cart writes per user (per address when anonymous)"
    )
    rate_limit_behaviour_per_minute: int = 600
    outbox_relay_in_app: bool = False
    outbox_relay_batch: int = 500
    outbox_relay_idle_s: float = 0.2
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # The API's edge: input limits, sessions, abuse limits, passwords, resilience, the alarms
    # of a stalled pipeline (ARCHITECTURE.md, "The API's edge").
    api_workers: int = Field(1, ge=1, description="uvicorn workers (set by `shoplake serve`)")
    api_access_log: bool = Field(
        False,
        description="uvicorn's line per request (off: /metrics counts requests per route and "
        "status, and errors are logged with their request id)",
    )
    api_max_body_bytes: int = Field(512 * 1024, ge=1024, description="larger bodies get a 413")
    api_body_drain_max_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="read and discard a too-large body up to this (no RST)"
    )
    api_max_json_depth: int = Field(32, ge=2, description="deeper JSON bodies get a 422")
    free_form_max_bytes: int = Field(
        16 * 1024, ge=64, description="serialized size of attributes and other free-form objects"
    )
    free_form_max_depth: int = Field(4, ge=1, description="nesting of free-form objects")
    outbox_max_event_bytes: int = Field(
        1_000_000, ge=1024, description="the relay's largest record; keep below message.max.bytes"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list, description="addresses/CIDRs whose X-Forwarded-For is believed"
    )
    rate_limit_login_account_per_minute: int = Field(10, ge=1, description="logins per account")
    rate_limit_register_per_minute: int = Field(5, ge=1, description="registrations per address")
    login_lockout_failures: int = Field(5, ge=1, description="failures in a row that lock")
    login_lockout_base_s: float = Field(30.0, gt=0, description="first lockout, then doubled")
    login_lockout_max_s: float = Field(900.0, gt=0, description="longest lockout")
    password_hash_memory_kib: int = Field(19 * 1024, ge=8, description="argon2id m (OWASP: 19 MiB)")
    password_hash_time_cost: int = Field(2, ge=1, description="argon2id t (OWASP: 2)")
    password_hash_parallelism: int = Field(1, ge=1, description="argon2id p (OWASP: 1)")
    password_hash_threads: int = Field(
        0, ge=0, description="hashing threads per worker; 0: the cores shared by the workers"
    )
    password_hash_queue_max: int = Field(
        256, ge=1, description="hashes waiting per worker beyond which logins get a 503"
    )
    operator_endpoints_admin_only: bool | None = Field(
        None, description="/metrics and /docs for admins only; default: only in production"
    )
    dependency_retry_after_s: int = Field(5, ge=1, description="Retry-After of a 503")
    redis_socket_timeout_s: float = Field(1.0, gt=0, description="per Redis command")
    redis_connect_timeout_s: float = Field(0.5, gt=0, description="per Redis connection")
    database_connect_timeout_s: int = Field(2, ge=1, description="per new Postgres connection")
    health_probe_interval_s: float = Field(
        2.0, gt=0, description="how often the API probes Kafka, search, the gateway, the lag"
    )
    outbox_lag_alarm_s: float = Field(
        60.0, gt=0, description="oldest unsent outbox row older than this: alarm"
    )
    bronze_lag_alarm_s: float = Field(
        600.0, gt=0, description="bronze behind Kafka with no progress for this long: alarm"
    )
    readiness_gates: list[str] = Field(
        default_factory=lambda: ["postgres", "redis", "outbox", "bronze"],
        description="the checks that turn /readyz red (others are only reported)",
    )
    outbox_relay_standby_s: float = Field(
        2.0, gt=0, description="how often a standby relay tries to become the leader"
    )

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

    # Models: the MLflow tracking server, recommendations and demand forecasts.
    mlflow_port: int = 5000
    mlflow_backend_db: str = Field(
        "mlflow", description="MLflow's own database in the stack's PostgreSQL (never the app's)"
    )
    mlflow_backend_uri: SecretStr | None = Field(
        None, description="MLflow's backend store elsewhere (an SQLAlchemy URL)"
    )
    mlflow_venv: Path = Field(
        REPO_ROOT / ".venv-mlflow", description="the server's own venv (make mlflow)"
    )
    recs_top_n: int = Field(50, ge=1, le=500, description="items published per active user")
    recs_ttl_s: int = Field(7 * 24 * 3600, ge=60, description="lifetime of a publication")
    recs_holdout_days: int = Field(14, ge=1, description="the time-based holdout")
    recs_half_life_days: float = Field(14.0, gt=0, description="time decay of interactions")
    recs_interest_half_life_days: float = Field(
        14.0, gt=0, description="time decay of a shopper's own recent interest in the blend"
    )
    recs_interest_weight: float = Field(
        2.0, ge=0, description="weight of recent interest in the blend (factorisation = 1)"
    )
    recs_neighbour_weight: float = Field(
        0.3, ge=0, description="weight of item co-occurrence in the blend (factorisation = 1)"
    )
    recs_active_days: int = Field(90, ge=1, description="users seen this recently get lists")
    recs_recent_views: int = Field(20, ge=1, le=200, description="recent views kept per session")
    recs_recent_views_ttl_s: int = Field(24 * 3600, ge=60, description="how long they are kept")
    recs_memory_refresh_s: float = Field(
        60.0, gt=0, description="how often the API refreshes its in-memory popular lists"
    )
    forecast_horizon_days: int = Field(28, ge=1, le=366)
    forecast_backtest_windows: int = Field(2, ge=1, le=12, description="rolling origins")
    forecast_service_level: float = Field(0.95, gt=0.5, lt=1.0)
    forecast_lead_time_days: int = Field(7, ge=1, le=180, description="supplier lead time")
    forecast_review_days: int = Field(7, ge=1, le=180, description="days a reorder covers")

    # Shipping cost, fulfilment, the sandbox carrier, returns and the order archive.
    shipping_rates: dict[str, ShippingRate] = Field(
        default_factory=lambda: dict(DEFAULT_SHIPPING_RATES),
        description='JSON: {"<country or *>": {"bands": [{"up_to_g", "cents"}], ...}}',
    )
    shipping_default_weight_g: int = Field(
        500, gt=0, le=1_000_000, description="per unit, for products without attributes.weight_g"
    )
    fulfilment_consumer_batch: int = Field(200, ge=1, description="order events per poll")
    fulfilment_default_warehouse: str = Field(
        "WH-1", description="ships the lines of an order that no warehouse reserved stock for"
    )
    fulfilment_carrier: str = Field("sandbox", description="the carrier new parcels go with")
    fulfilment_sender_name: str = "shoplake fulfilment"
    warehouse_addresses: dict[str, list[str]] = Field(
        default_factory=dict,
        description="sender address lines per warehouse id, printed on its labels",
    )
    label_font_path: Path | None = Field(
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        description="a TTF with the glyphs of customers' names (Helvetica if missing)",
    )
    sandbox_carrier_scan_interval_s: float = Field(
        5.0, ge=0, description="the sandbox carrier's time between two scans of a parcel"
    )
    sandbox_carrier_tracking_url: str = "https://track.sandbox-carrier.test/{tracking_number}"
    carrier_poll_batch: int = Field(200, ge=1, description="shipments asked about per poll")
    returns_window_days: int = Field(
        30, ge=0, description="returns accepted this long after delivery"
    )
    archive_batch_size: int = Field(5_000, ge=1, description="orders moved per archive batch")
    archive_read_refresh_s: float = Field(
        1.0, ge=0, description="how stale the API's view of the order archive may be"
    )

    # Notifications: e-mail over SMTP (the stack's Mailpit unless smtp_host names a relay),
    # SMS and push through sandboxes that record what they would send.
    mailpit_port: int = 1025
    mailpit_http_port: int = 8025
    mailpit_api_url: str | None = Field(None, description="the HTTP API of a Mailpit elsewhere")
    smtp_host: str | None = Field(None, description="a real SMTP relay; default: local Mailpit")
    smtp_port: int = Field(587, description="the relay's port (with smtp_host)")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(True, description="STARTTLS before AUTH (with smtp_host)")
    smtp_timeout_s: float = Field(5.0, gt=0, description="per SMTP connection and command")
    notify_email_from: str = "Shoplake <no-reply@shoplake.dev>"
    notify_storefront_url: str = Field(
        "http://localhost:3000", description="where links in messages point (the storefront)"
    )
    notify_max_attempts: int = Field(5, ge=1, description="tries of a message before dead letters")
    notify_retry_backoff_s: float = Field(1.0, ge=0, description="first retry delay, then doubled")
    notify_retry_max_backoff_s: float = Field(300.0, ge=0, description="the longest retry delay")
    notify_lease_s: float = Field(60.0, gt=0, description="a claimed message's lease")
    notify_breaker_failures: int = Field(3, ge=1, description="outage failures that open a channel")
    notify_breaker_open_s: float = Field(5.0, gt=0, description="how long an open channel waits")
    notify_batch: int = Field(200, ge=1, description="events per poll and messages per round")

    # Bulk imports (products, stock).
    import_max_reported_errors: int = Field(
        1_000, ge=1, description="refused rows listed in a report (the rest are counted)"
    )
    import_max_upload_bytes: int = Field(512 * 1024 * 1024, ge=1, description="per upload")

    # The gold layer: the Spark SQL endpoint (Thrift), dbt, quality gates, dashboards.
    spark_sql_port: int = Field(10000, description="the Spark SQL endpoint (HiveServer2 Thrift)")
    spark_sql_host: str | None = Field(
        None, description="a managed Spark SQL endpoint's host; default: the local server"
    )
    spark_sql_driver_memory: str = Field("1g", description="heap of the local endpoint's driver")
    dbt_threads: int = Field(4, ge=1, description="dbt's concurrent statements on the endpoint")
    # dbt-spark sleeps this long between polls of a running statement (its own default is 5 s,
    # which rounded every test and small model up to 5 or 10 s on this endpoint).
    dbt_poll_interval_s: int = Field(
        1, ge=1, description="how often dbt asks the endpoint whether a statement is done"
    )
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
    def _no_dev_secret_outside_development(self) -> Settings:
        if (
            self.environment not in DEVELOPMENT_ENVIRONMENTS
            and self.jwt_secret.get_secret_value() == DEV_JWT_SECRET
        ):
            raise ValueError(
                "set SHOPLAKE_JWT_SECRET: the development secret is refused outside the "
                f"{' and '.join(sorted(DEVELOPMENT_ENVIRONMENTS))} environments"
            )
        return self

    @property
    def operator_endpoints_protected(self) -> bool:
        """Whether /metrics and /docs need an admin (always in production)."""
        if self.operator_endpoints_admin_only is None:
            return self.environment == "production"
        return self.operator_endpoints_admin_only or self.environment == "production"

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
    def smtp_endpoint(self) -> tuple[str, int]:
        """Where e-mail goes: the relay of smtp_host, else the stack's Mailpit."""
        if self.smtp_host is not None:
            return self.smtp_host, self.smtp_port
        return self.bind_host, self.mailpit_port

    @property
    def mailpit_endpoint(self) -> str:
        """Mailpit's HTTP API and web UI."""
        return self.mailpit_api_url or f"http://{self.bind_host}:{self.mailpit_http_port}"

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
        """The tracking server: the stack's own unless SHOPLAKE_MLFLOW_TRACKING_URI says another
        (MLflow 3.17 refuses `file://` stores)."""
        return self.mlflow_tracking_uri or f"http://{self.bind_host}:{self.mlflow_port}"

    @property
    def mlflow_backend_endpoint(self) -> str:
        """MLflow's backend store: its own database beside the app's (contains a password)."""
        if self.mlflow_backend_uri is not None:
            return self.mlflow_backend_uri.get_secret_value()
        password = self.postgres_password.get_secret_value()
        return (
            f"postgresql+psycopg://{self.postgres_user}:{password}"
            f"@{self.bind_host}:{self.postgres_port}/{self.mlflow_backend_db}"
        )

    @property
    def mlflow_artifacts_dir(self) -> Path:
        return self.state_dir / "mlartifacts"

    def uses_local(self, service: str) -> bool:
        """True when the service is the local one that `shoplake stack` manages."""
        remote = {
            "kafka": self.kafka_bootstrap,
            "elasticsearch": self.elasticsearch_url,
            "redis": self.redis_url,
            "postgres": self.database_url,
            "sandbox-gateway": self.sandbox_gateway_url,
            "mlflow": self.mlflow_tracking_uri,
            "mailpit": self.smtp_host,
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


def override_settings(overrides: dict[str, object]) -> Settings:
    """Apply `overrides` (setting name → value) to this process's environment and return the
    settings read anew: child processes (e.g. uvicorn's workers) build theirs from the
    environment, so an option given on the command line reaches every one of them."""
    os.environ.update({f"SHOPLAKE_{name.upper()}": str(value) for name, value in overrides.items()})
    get_settings.cache_clear()
    return get_settings()


# Libraries that phone home unless told not to (MLflow's telemetry reads both names once, at
# import): set before any of them is imported, here and in every child process they run in.
QUIET_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


def disable_telemetry() -> None:
    """Turn off the usage statistics of the libraries this process may import (MLflow...)."""
    os.environ.update(QUIET_ENV)


def child_env(**overrides: object) -> dict[str, str]:
    """This process's environment plus `SHOPLAKE_<NAME>` overrides, for a child process."""
    env = dict(os.environ)
    env.update({f"SHOPLAKE_{name.upper()}": str(value) for name, value in overrides.items()})
    return env
