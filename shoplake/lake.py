"""The table registry of the lake: names, paths, schemas, partitioning and keys, declared once.

Schemas are Spark SQL DDL types kept as plain strings, so `import shoplake` stays free of Spark;
`spark_jobs` turns them into Delta tables and casts DataFrames to them. Every silver table says
which event types it derives rows from (`source_types`) and which of those it *accounts* for
(`counted_types`: one distinct `event_id` per event), so reconciliation can count per type.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from shoplake.archive.contract import ARCHIVED_TABLES, ORDER_MONTH, spark_type
from shoplake.events import DOMAINS, REGISTRY
from shoplake.events.base import INT32_MAX
from shoplake.events.topics import TOPIC_VERSION


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    """One Delta table: `<layer>.<name>` stored at `<lake root>/<layer>/<name>`."""

    name: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...]
    partition_by: tuple[str, ...] = ()
    description: str = ""
    source_types: tuple[str, ...] = ()
    counted_types: tuple[str, ...] = field(default=())

    @property
    def layer(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def short_name(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def path(self, lake_root: str) -> str:
        return f"{lake_root.rstrip('/')}/{self.layer}/{self.short_name}"

    def ddl(self) -> str:
        """The schema as a DDL string (`createDataFrame(rows, table.ddl())` accepts it)."""
        return ", ".join(
            f"{c.name} {c.type}{'' if c.nullable else ' NOT NULL'}" for c in self.columns
        )


def checkpoint_path(lake_root: str, job: str) -> str:
    """Where a streaming job keeps its offsets and commits, under the lake root."""
    return f"{lake_root.rstrip('/')}/_checkpoints/{job}"


def domain_topic_pattern(namespace: str | None = None) -> str:
    """The regex of the topics bronze reads: one per registered domain, never the dead letters.

    Production reads `shop.<domain>.v1`; tests put their topics in a namespace,
    `shop.<namespace>.<domain>.v1`, so they never see (or feed) the shared topics.
    """
    prefix = r"shop\." if namespace is None else rf"shop\.{re.escape(namespace)}\."
    domains = "|".join(re.escape(domain) for domain in DOMAINS)
    return rf"^{prefix}({domains})\.{TOPIC_VERSION}$"


def namespaced_topic(namespace: str, domain: str) -> str:
    """A test topic inside `namespace` that `domain_topic_pattern(namespace)` matches."""
    return f"shop.{namespace}.{domain}.{TOPIC_VERSION}"


def _types(domain: str, *facts: str) -> tuple[str, ...]:
    names = tuple(f"shop.{domain}.{fact}.v1" for fact in facts)
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        raise ValueError(f"lake tables refer to undeclared event types: {unknown}")
    return names


def _c(spec: str) -> tuple[Column, ...]:
    """Columns from 'name type, name type!, ...' ('!' marks NOT NULL); types use no commas."""
    columns = []
    for item in spec.split(","):
        name, type_ = item.split(maxsplit=1)
        type_ = type_.strip()
        columns.append(Column(name, type_.rstrip("!"), not type_.endswith("!")))
    return tuple(columns)


# ---------------------------------------------------------------- event payloads as Spark types


def _spark_type(annotation: Any, info: FieldInfo | None = None) -> str:
    """The Spark DDL type that `from_json` should read a payload field as.

    Integers bounded to 32 bits read as `int`, others as `bigint`; objects of free form (a dict,
    `Any`) as `string`, which keeps their JSON text; nested models as structs.
    """
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) != 1:
            raise TypeError(f"a payload field must have one type (or None), not {annotation}")
        return _spark_type(members[0], info)
    if origin is Literal:
        kinds = {type(value) for value in get_args(annotation)}
        if kinds != {str}:
            raise TypeError(f"only string literals map onto Spark: {annotation}")
        return "string"
    if origin is list:
        (item,) = get_args(annotation)
        return f"array<{_spark_type(item)}>"
    if origin is dict or annotation is Any:
        return "string"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            fields = ", ".join(
                f"{name}: {_spark_type(f.annotation, f)}"
                for name, f in annotation.model_fields.items()
            )
            return f"struct<{fields}>"
        if issubclass(annotation, bool):
            return "boolean"
        if issubclass(annotation, int):
            bounds = info.metadata if info is not None else []
            small = any(
                isinstance(b, annotated_types.Le) and isinstance(b.le, int) and b.le <= INT32_MAX
                for b in bounds
            )
            return "int" if small else "bigint"
        if issubclass(annotation, float):
            return "double"
        if issubclass(annotation, datetime):
            return "timestamp"
        if issubclass(annotation, date):
            return "date"
        if issubclass(annotation, str | Enum):
            return "string"
    raise TypeError(f"no Spark type for payload annotation {annotation!r}")


def event_data_schema(event_types: tuple[str, ...]) -> str:
    """The DDL schema of `data` for these event types: every field of every type, once.

    Silver parses bronze's raw JSON with it, so the lake's reading of a payload is derived from
    the event contract (`shoplake.events`) instead of being written by hand a second time. A
    field that two types declare with different Spark types is a contract error.
    """
    columns: dict[str, str] = {}
    for event_type in event_types:
        for name, info in REGISTRY[event_type].model_fields.items():
            spark_type = _spark_type(info.annotation, info)
            known = columns.setdefault(name, spark_type)
            if known != spark_type:
                raise TypeError(
                    f"field {name!r} is {known} in one of {event_types} and {spark_type} in "
                    f"{event_type}: one name, one type across a table's events"
                )
    return ", ".join(f"{name} {spark_type}" for name, spark_type in columns.items())


_DECLARED: dict[str, Table] = {}


def _declare(
    name: str,
    columns: tuple[Column, ...],
    *,
    keys: tuple[str, ...],
    partition_by: tuple[str, ...] = (),
    description: str = "",
    source_types: tuple[str, ...] = (),
    counted_types: tuple[str, ...] = (),
) -> Table:
    """Declare a table of the lake: that is all it takes to create, reconcile and maintain it."""
    table = Table(name, columns, keys, partition_by, description, source_types, counted_types)
    if table.name in _DECLARED:
        raise ValueError(f"lake table {table.name} declared twice")
    _DECLARED[table.name] = table
    return table


EVENT_COLUMNS = "event_id string!, event_type string!, event_time timestamp!, event_date date!"

ORDER_TYPES = _types(
    "order", "OrderPlaced", "OrderConfirmed", "OrderCancelled", "OrderStatusChanged"
)
PAYMENT_TYPES = _types(
    "payment",
    "PaymentAuthorized",
    "PaymentDeclined",
    "PaymentCaptured",
    "PaymentVoided",
    "PaymentRefunded",
)
INVENTORY_TYPES = _types(
    "inventory",
    "StockReserved",
    "StockReleased",
    "StockAdjusted",
    "StockReceived",
    "OutOfStock",
    "BackInStock",
)
CART_TYPES = _types("cart", "CartItemAdded", "CartItemRemoved", "CartCheckedOut")
CATALOG_TYPES = _types(
    "catalog", "ProductCreated", "ProductUpdated", "PriceChanged", "ProductDiscontinued"
)
WISHLIST_TYPES = _types("wishlist", "WishlistItemAdded", "WishlistItemRemoved")
PRODUCT_VIEWED = _types("behaviour", "ProductViewed")
SEARCH_PERFORMED = _types("behaviour", "SearchPerformed")
RECOMMENDATION_CLICKED = _types("behaviour", "RecommendationClicked")
RECOMMENDATION_SHOWN = _types("behaviour", "RecommendationShown")
RECOMMENDATIONS_PUBLISHED = _types("recommendations", "RecommendationsPublished")
USER_REGISTERED = _types("user", "UserRegistered")
NOTIFICATION_TYPES = _types(
    "notification", "NotificationRequested", "NotificationSent", "NotificationFailed"
)
INBOUND_TYPES = _types(
    "inbound",
    "PurchaseOrderCreated",
    "PurchaseOrderSubmitted",
    "PurchaseOrderAcknowledged",
    "ShipNoticeSent",
    "PurchaseOrderReceived",
    "PurchaseOrderClosed",
)
PROMOTION_TYPES = _types("pricing", "PromotionCreated", "PromotionUpdated", "PromotionDeleted")

BRONZE_EVENTS = _declare(
    "bronze.events",
    _c(
        "event_id string!, event_type string!, source string, subject string, "
        "event_time timestamp!, event_date date!, specversion string, datacontenttype string, "
        "dataschema string, data string, kafka_topic string!, kafka_partition int!, "
        "kafka_offset bigint!, kafka_timestamp timestamp, ingested_at timestamp!"
    ),
    keys=("kafka_topic", "kafka_partition", "kafka_offset"),
    partition_by=("event_date",),
    description="every valid CloudEvent as received, `data` as raw JSON; one row per record",
)

BRONZE_REJECTED = _declare(
    "bronze.rejected",
    _c(
        "kafka_topic string!, kafka_partition int!, kafka_offset bigint!, "
        "kafka_timestamp timestamp, kafka_key string, value string, reason string!, "
        "detail string, event_id string, event_type string, rejected_at timestamp!, "
        "rejected_date date!"
    ),
    keys=("kafka_topic", "kafka_partition", "kafka_offset"),
    partition_by=("rejected_date",),
    description="records that are not JSON, not a CloudEvent, of an unknown type or mismatched",
)

ORDER_EVENTS = _declare(
    "silver.order_events",
    _c(
        f"{EVENT_COLUMNS}, order_id string!, user_id string, status string, from_status string, "
        "subtotal_cents bigint, discount_cents bigint, shipping_cents bigint, total_cents bigint, "
        "currency string, ship_to_country string, line_count int, reason string"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="the change table of orders: one row per order event, status after it",
    source_types=ORDER_TYPES,
    counted_types=ORDER_TYPES,
)

ORDERS = _declare(
    "silver.orders",
    _c(
        "order_id string!, user_id string, status string, subtotal_cents bigint, "
        "discount_cents bigint, shipping_cents bigint, total_cents bigint, currency string, "
        "ship_to_country string, line_count int, placed_at timestamp, confirmed_at timestamp, "
        "cancelled_at timestamp, cancel_reason string, updated_at timestamp!, event_count int!, "
        "last_event_id string!"
    ),
    keys=("order_id",),
    description="latest state of each order, folded from silver.order_events by event time",
    source_types=ORDER_TYPES,
)

ORDER_ITEMS = _declare(
    "silver.order_items",
    _c(
        "order_id string!, line_number int!, sku string!, quantity int!, "
        "unit_price_cents bigint!, discount_cents bigint!, line_total_cents bigint!, "
        "currency string, user_id string, event_id string!, event_type string!, "
        "event_time timestamp!, event_date date!"
    ),
    keys=("order_id", "line_number"),
    partition_by=("event_date",),
    description="one row per line of each placed order",
    source_types=_types("order", "OrderPlaced"),
)

PAYMENTS = _declare(
    "silver.payments",
    _c(
        f"{EVENT_COLUMNS}, payment_id string!, order_id string!, status string!, "
        "amount_cents bigint!, currency string!, gateway string, reason string"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="every payment outcome (authorized, declined, captured, voided, refunded)",
    source_types=PAYMENT_TYPES,
    counted_types=PAYMENT_TYPES,
)

INVENTORY_MOVEMENTS = _declare(
    "silver.inventory_movements",
    _c(
        f"{EVENT_COLUMNS}, sku string!, warehouse_id string!, movement string!, "
        "quantity int, on_hand_delta int!, reserved_delta int!, on_hand int!, reserved int!, "
        "order_id string, reason string, reference string"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="every stock movement with its signed effect on on-hand and reserved units",
    source_types=INVENTORY_TYPES,
    counted_types=INVENTORY_TYPES,
)

CART_EVENTS = _declare(
    "silver.cart_events",
    _c(
        f"{EVENT_COLUMNS}, cart_id string!, user_id string, action string!, sku string, "
        "quantity int, unit_price_cents bigint, currency string, order_id string, item_count int"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="cart lines added and removed, and checkouts",
    source_types=CART_TYPES,
    counted_types=CART_TYPES,
)

PRODUCT_VIEWS = _declare(
    "silver.product_views",
    _c(
        f"{EVENT_COLUMNS}, session_id string!, user_id string, channel string, sku string!, "
        "referrer string"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="one row per product page view",
    source_types=PRODUCT_VIEWED,
    counted_types=PRODUCT_VIEWED,
)

SEARCHES = _declare(
    "silver.searches",
    _c(
        f"{EVENT_COLUMNS}, session_id string!, user_id string, channel string, query string!, "
        "filters string, result_count int!, zero_results boolean!"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="one row per search; filters as JSON text",
    source_types=SEARCH_PERFORMED,
    counted_types=SEARCH_PERFORMED,
)

RECOMMENDATION_CLICKS = _declare(
    "silver.recommendation_clicks",
    _c(
        f"{EVENT_COLUMNS}, session_id string!, user_id string, channel string, sku string!, "
        "slot int!, placement string!, model_version string"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="one row per click on a recommendation",
    source_types=RECOMMENDATION_CLICKED,
    counted_types=RECOMMENDATION_CLICKED,
)

WISHLIST_EVENTS = _declare(
    "silver.wishlist_events",
    _c(f"{EVENT_COLUMNS}, user_id string!, sku string!, action string!"),
    keys=("event_id",),
    partition_by=("event_date",),
    description="wishlist items added and removed",
    source_types=WISHLIST_TYPES,
    counted_types=WISHLIST_TYPES,
)

PRODUCT_CHANGES = _declare(
    "silver.product_changes",
    _c(
        f"{EVENT_COLUMNS}, sku string!, version int!, name string, description string, "
        "brand string, category_path array<string>, price_cents bigint, old_price_cents bigint, "
        "currency string, status string, attributes string, image_urls array<string>, "
        "changed array<string>"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="the change table of the catalog: one row per catalog event (product history)",
    source_types=CATALOG_TYPES,
    counted_types=CATALOG_TYPES,
)

PRODUCTS = _declare(
    "silver.products",
    _c(
        "sku string!, version int!, name string, description string, brand string, "
        "category_path array<string>, price_cents bigint, currency string, status string, "
        "attributes string, image_urls array<string>, created_at timestamp, "
        "price_changed_at timestamp, discontinued_at timestamp, updated_at timestamp!, "
        "last_event_id string!"
    ),
    keys=("sku",),
    description="latest state of each product, folded from silver.product_changes by version",
    source_types=CATALOG_TYPES,
)

USERS = _declare(
    "silver.users",
    _c(f"{EVENT_COLUMNS}, user_id string!, email_sha256 string!, role string!, country string"),
    keys=("user_id",),
    description="registered users for analytics: no e-mail (only its SHA-256), no name, no address",
    source_types=USER_REGISTERED,
    counted_types=USER_REGISTERED,
)

# ---------------------------------------------------------------- recommendations and forecasts

RECOMMENDATION_IMPRESSIONS = _declare(
    "silver.recommendation_impressions",
    _c(
        f"{EVENT_COLUMNS}, session_id string!, user_id string, channel string, "
        "recommendation_id string!, placement string!, anchor_sku string, skus array<string>, "
        "strategy string, model_version string"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="one row per recommendation list the API showed (clicks join on its id)",
    source_types=RECOMMENDATION_SHOWN,
    counted_types=RECOMMENDATION_SHOWN,
)

# Which model's lists were live when: analysts join impressions and clicks to it by time.
RECOMMENDATION_PUBLICATIONS = _declare(
    "silver.recommendation_publications",
    _c(
        f"{EVENT_COLUMNS}, publication string!, model_name string!, model_version string, "
        "run_id string, users int!, items int!, categories int!, ttl_s int!, "
        "published_at timestamp!"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="one row per set of recommendation lists that went live in Redis",
    source_types=RECOMMENDATIONS_PUBLISHED,
    counted_types=RECOMMENDATIONS_PUBLISHED,
)

# Written by models/forecasting (delta-rs), not by dbt: one row per series, day and model run.
DEMAND_FORECASTS = _declare(
    "gold.demand_forecasts",
    _c(
        "forecast_key string!, sku string!, warehouse_id string!, origin_date date!, "
        "forecast_date date!, horizon_day int!, model string!, units double!, "
        "lo_80 double, hi_80 double, lo_95 double, hi_95 double, model_version string, "
        "run_id string, generated_at timestamp!"
    ),
    keys=("forecast_key",),
    description="daily demand per SKU (warehouse_id 'ALL') and per SKU x warehouse, 28 days on",
)

REORDER_SUGGESTIONS = _declare(
    "gold.reorder_suggestions",
    _c(
        "suggestion_key string!, sku string!, warehouse_id string!, as_of_date date!, "
        "on_hand bigint, reserved bigint, available bigint, inbound_units bigint, "
        "lead_time_days int, review_days int, demand_lead_time double, demand_cover double, "
        "sigma_lead_time double, service_level double, safety_stock double, "
        "reorder_point double, projected_stock double, suggested_units bigint, "
        "needs_reorder boolean!, model_version string, generated_at timestamp!"
    ),
    keys=("suggestion_key",),
    description="per SKU x warehouse: projected stock against lead-time demand and safety stock",
)

# ---------------------------------------------------------------- after checkout

SHIPMENT_TYPES = _types(
    "shipment",
    "ShipmentCreated",
    "ShipmentPacked",
    "ShipmentShipped",
    "ShipmentDelivered",
    "ShipmentCancelled",
)
RETURN_TYPES = _types("return", "ReturnRequested", "ReturnReceived", "ReturnRefunded")
ARCHIVE_TYPES = _types("archive", "OrdersArchived")

SHIPMENT_EVENTS = _declare(
    "silver.shipment_events",
    _c(
        f"{EVENT_COLUMNS}, shipment_id string!, order_id string!, warehouse_id string!, "
        "status string!, carrier string, tracking_number string, tracking_url string, "
        "unit_count int, weight_g int, length_mm int, width_mm int, height_mm int, "
        "attempts int, reason string"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="the change table of shipments: created, packed, shipped, delivered, cancelled",
    source_types=SHIPMENT_TYPES,
    counted_types=SHIPMENT_TYPES,
)

SHIPMENTS = _declare(
    "silver.shipments",
    _c(
        "shipment_id string!, order_id string!, warehouse_id string!, status string!, "
        "carrier string, tracking_number string, unit_count int, weight_g int, "
        "created_at timestamp, packed_at timestamp, shipped_at timestamp, "
        "delivered_at timestamp, cancelled_at timestamp, attempts int, updated_at timestamp!, "
        "event_count int!, last_event_id string!"
    ),
    keys=("shipment_id",),
    description="latest state of each shipment, folded from silver.shipment_events by event time",
    source_types=SHIPMENT_TYPES,
)

RETURN_EVENTS = _declare(
    "silver.return_events",
    _c(
        f"{EVENT_COLUMNS}, return_id string!, order_id string!, user_id string, status string!, "
        "reason string, unit_count int, restocked_units int, written_off_units int, "
        "amount_cents bigint, currency string, payment_id string"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="returns requested, received (restocked or written off) and refunded",
    source_types=RETURN_TYPES,
    counted_types=RETURN_TYPES,
)

ORDER_ARCHIVE_BATCHES = _declare(
    "silver.order_archive_batches",
    _c(
        f"{EVENT_COLUMNS}, batch_id string!, cutoff timestamp, order_count int, row_count int, "
        "total_cents bigint, months array<string>"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="one row per batch of orders moved from Postgres into archive.orders",
    source_types=ARCHIVE_TYPES,
    counted_types=ARCHIVE_TYPES,
)

# The order archive: final orders and what hangs off them, moved out of Postgres by batch
# (spark_jobs.order_archive), partitioned by the order's month; columns from the kernel's
# archive contract (shoplake.archive.contract), so they are not written twice.
ARCHIVE_TABLES: dict[str, Table] = {
    archived.name: _declare(
        archived.lake_name,
        tuple(
            Column(name, spark_type(type_), nullable=name not in (ORDER_MONTH, "archive_batch"))
            for name, type_ in archived.columns
        ),
        keys=archived.keys,
        partition_by=(ORDER_MONTH,),
        description=f"archived rows of Postgres `{archived.name}`, by the order's month",
    )
    for archived in ARCHIVED_TABLES
}

NOTIFICATIONS = _declare(
    "silver.notifications",
    _c(
        f"{EVENT_COLUMNS}, user_id string!, kind string!, action string!, channel string, "
        "delivery_id bigint, source_event_id string, source_event_type string, attempts int, "
        "reason string, reference string"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="notices asked for, and every message sent or given up on (no address, no text)",
    source_types=NOTIFICATION_TYPES,
    counted_types=NOTIFICATION_TYPES,
)

PURCHASE_ORDER_EVENTS = _declare(
    "silver.purchase_order_events",
    _c(
        f"{EVENT_COLUMNS}, purchase_order_id string!, supplier_id string!, action string!, "
        "status string, number string, warehouse_id string, currency string, "
        "total_cost_cents bigint, expected_arrival date, reference string, receipt_id string, "
        "ship_notice_id string, line_count int, units bigint, units_short int, carrier string, "
        "tracking_number string"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="the history of purchase orders: created, submitted, acknowledged, shipped, "
    "received (units per receipt), closed (units short)",
    source_types=INBOUND_TYPES,
    counted_types=INBOUND_TYPES,
)

PROMOTION_EVENTS = _declare(
    "silver.promotion_events",
    _c(
        f"{EVENT_COLUMNS}, promotion_id string!, action string!, name string, kind string, "
        "value bigint, currency string, scope string, scope_values array<string>, "
        "starts_at timestamp, ends_at timestamp, coupon_code string, usage_limit int, "
        "stackable boolean, priority int, active boolean, changed array<string>"
    ),
    keys=("event_id",),
    partition_by=("event_date",),
    description="the change table of promotions: one row per promotion event, state after it",
    source_types=PROMOTION_TYPES,
    counted_types=PROMOTION_TYPES,
)

# ---------------------------------------------------------------- gold: the analysts' marts
# Built by dbt (`dbt/models/marts/<area>/<name>.sql`, external Delta tables at these paths);
# declared here so that the SQL endpoint, DuckDB, the quality gates and the dashboards know them.
# A unit test holds each declaration and its dbt model's YAML to the same columns.

DIM_DATE = _declare(
    "gold.dim_date",
    _c(
        "date_day date!, year int, quarter int, month int, month_name string, month_start date, "
        "week_start date, day_of_week int, day_name string, is_weekend boolean, "
        "is_holiday boolean, holiday_name string"
    ),
    keys=("date_day",),
    description="one row per calendar day the lake covers, with weekends and shopping holidays",
)

DIM_CUSTOMERS = _declare(
    "gold.dim_customers",
    _c(
        "customer_id string!, email_sha256 string, country string, country_name string, "
        "region string, registered_at timestamp, cohort_month date, first_order_at timestamp, "
        "last_order_at timestamp, order_count bigint, paid_order_count bigint, "
        "lifetime_net_revenue_cents bigint, is_buyer boolean"
    ),
    keys=("customer_id",),
    description="every registered user and every customer who ordered, with their order totals",
)

DIM_PRODUCTS = _declare(
    "gold.dim_products",
    _c(
        "sku string!, name string, brand string, category string, subcategory string, "
        "category_path string, price_cents bigint, currency string, price_band string, "
        "status string, created_at timestamp, discontinued_at timestamp, updated_at timestamp"
    ),
    keys=("sku",),
    description="every product of the catalog (and any SKU sold), with its price band",
)

FCT_ORDERS = _declare(
    "gold.fct_orders",
    _c(
        "order_id string!, customer_id string, order_date date, placed_at timestamp, "
        "status string, currency string, line_count int, units bigint, subtotal_cents bigint, "
        "discount_cents bigint, shipping_cents bigint, total_cents bigint, "
        "ship_to_country string, is_confirmed boolean, authorized_cents bigint, "
        "captured_cents bigint, refunded_cents bigint, net_revenue_cents bigint, "
        "confirmed_at timestamp, cancelled_at timestamp, updated_at timestamp"
    ),
    keys=("order_id",),
    description="one row per order: its totals and the money its payments moved",
)

FCT_ORDER_LINES = _declare(
    "gold.fct_order_lines",
    _c(
        "order_line_id string!, order_id string!, line_number int, sku string, "
        "customer_id string, order_date date, order_status string, is_confirmed boolean, "
        "quantity int, unit_price_cents bigint, gross_cents bigint, discount_cents bigint, "
        "line_total_cents bigint, allocated_order_discount_cents bigint, net_cents bigint, "
        "currency string, category string, subcategory string, brand string, "
        "ship_to_country string, order_updated_at timestamp"
    ),
    keys=("order_line_id",),
    description="one row per order line: category, brand, and its share of the order discount",
)

FCT_PAYMENTS = _declare(
    "gold.fct_payments",
    _c(
        "payment_event_id string!, payment_id string, order_id string, status string, "
        "amount_cents bigint, revenue_cents bigint, currency string, gateway string, "
        "reason string, event_time timestamp, event_date date"
    ),
    keys=("payment_event_id",),
    description="every payment outcome; revenue_cents is + on capture, - on refund, 0 otherwise",
)

FCT_INVENTORY_MOVEMENTS = _declare(
    "gold.fct_inventory_movements",
    _c(
        "movement_id string!, sku string, warehouse_id string, movement string, quantity int, "
        "on_hand_delta int, reserved_delta int, on_hand int, reserved int, available int, "
        "order_id string, reason string, event_time timestamp, event_date date"
    ),
    keys=("movement_id",),
    description="every stock movement with the level after it",
)

FCT_SESSIONS = _declare(
    "gold.fct_sessions",
    _c(
        "session_id string!, visitor_id string, customer_id string, is_anonymous boolean, "
        "session_date date, started_at timestamp, ended_at timestamp, duration_seconds bigint, "
        "events int, product_views int, searches int, recommendation_clicks int, "
        "cart_adds int, checkouts int, paid_orders int, has_view boolean, has_cart boolean, "
        "has_checkout boolean, has_paid boolean, landing_event string"
    ),
    keys=("session_id",),
    description="behaviour sessionised: a visitor's events until 30 minutes of silence",
)

SALES_DAILY = _declare(
    "gold.sales_daily",
    _c(
        "sales_key string!, order_date date, category string, brand string, country string, "
        "orders bigint, units bigint, gross_cents bigint, discount_cents bigint, "
        "net_cents bigint, avg_order_value_cents bigint"
    ),
    keys=("sales_key",),
    description="confirmed sales by day, category, brand and country",
)

PROMOTION_PERFORMANCE = _declare(
    "gold.promotion_performance",
    _c(
        "promotion_id string!, name string, kind string, value bigint, scope string, "
        "scope_values string, starts_at timestamp, ends_at timestamp, is_active boolean, "
        "days_running int, redemptions bigint, units bigint, discount_cost_cents bigint, "
        "net_sales_cents bigint, baseline_daily_units double, promo_daily_units double, "
        "lift double"
    ),
    keys=("promotion_id",),
    description="each promotion's redemptions, discount cost and lift over the weeks before it",
)

FUNNEL_DAILY = _declare(
    "gold.funnel_daily",
    _c(
        "date_day date!, sessions bigint, view_sessions bigint, cart_sessions bigint, "
        "checkout_sessions bigint, paid_sessions bigint, view_rate double, cart_rate double, "
        "checkout_rate double, conversion_rate double, cart_abandonment_rate double"
    ),
    keys=("date_day",),
    description="the conversion funnel by day: session → view → cart → checkout → paid",
)

SEARCH_QUERIES = _declare(
    "gold.search_queries",
    _c(
        "query string!, searches bigint, sessions bigint, zero_result_searches bigint, "
        "zero_result_rate double, avg_result_count double, searches_with_view bigint, "
        "searches_with_cart bigint, search_to_view_rate double, search_to_cart_rate double, "
        "first_searched_at timestamp, last_searched_at timestamp"
    ),
    keys=("query",),
    description="every search query (normalised): volume, zero results, what followed",
)

SEARCH_DAILY = _declare(
    "gold.search_daily",
    _c(
        "date_day date!, searches bigint, zero_result_searches bigint, zero_result_rate double, "
        "search_to_view_rate double, search_to_cart_rate double"
    ),
    keys=("date_day",),
    description="search volume, zero-result rate and search → view / cart rates by day",
)

RECOMMENDATION_PERFORMANCE = _declare(
    "gold.recommendation_performance",
    _c(
        "recommendation_key string!, date_day date, placement string, model_version string, "
        "impressions bigint, clicks bigint, click_through_rate double, purchases bigint, "
        "purchased_units bigint, attributed_revenue_cents bigint"
    ),
    keys=("recommendation_key",),
    description="recommendations shown → clicked → bought, by day, placement and model",
)

CUSTOMER_RFM = _declare(
    "gold.customer_rfm",
    _c(
        "customer_id string!, as_of_date date, last_order_date date, recency_days int, "
        "frequency bigint, monetary_cents bigint, r_score int, f_score int, m_score int, "
        "rfm_score string, segment string"
    ),
    keys=("customer_id",),
    description="recency, frequency and monetary quintiles of every buyer, and their segment",
)

COHORT_RETENTION = _declare(
    "gold.cohort_retention",
    _c(
        "cohort_key string!, cohort_month date, months_since_first int, "
        "cohort_customers bigint, active_customers bigint, retention_rate double, "
        "net_revenue_cents bigint"
    ),
    keys=("cohort_key",),
    description="monthly cohorts of first purchase: the share still buying N months later",
)

CUSTOMER_LIFETIME_VALUE = _declare(
    "gold.customer_lifetime_value",
    _c(
        "customer_id string!, first_order_date date, last_order_date date, tenure_days int, "
        "paid_orders bigint, net_revenue_cents bigint, avg_order_value_cents bigint, "
        "orders_per_month double, projected_12m_revenue_cents bigint"
    ),
    keys=("customer_id",),
    description="a simple lifetime value: revenue so far and its pace projected over a year",
)

STOCK_HEALTH = _declare(
    "gold.stock_health",
    _c(
        "sku string!, category string, brand string, on_hand bigint, reserved bigint, "
        "available bigint, units_sold_28d bigint, avg_daily_units_28d double, "
        "days_of_cover double, stockout_days_90d int, sell_through_28d double, "
        "last_sold_at timestamp, last_received_at timestamp, is_slow_mover boolean, "
        "stock_status string"
    ),
    keys=("sku",),
    description="stock per SKU over every warehouse: cover, stockouts, sell-through, slow movers",
)

DEMAND_DAILY = _declare(
    "gold.demand_daily",
    _c(
        "demand_key string!, sku string, date_day date, category string, brand string, "
        "units_ordered bigint, orders bigint, views bigint, cart_adds bigint, "
        "list_price_cents bigint, avg_paid_price_cents bigint, discount_cents bigint, "
        "promotion_active boolean, on_hand_end bigint, available_end bigint, "
        "stocked_out boolean"
    ),
    keys=("demand_key",),
    description="per SKU and day: demand, views, prices, promotions and stockouts (forecasting)",
)

FINANCE_REVENUE_RECONCILIATION = _declare(
    "gold.finance_revenue_reconciliation",
    _c(
        "order_date date!, orders bigint, gold_net_revenue_cents bigint, "
        "silver_captured_cents bigint, silver_refunded_cents bigint, "
        "silver_net_revenue_cents bigint, difference_cents bigint, is_reconciled boolean"
    ),
    keys=("order_date",),
    description="net revenue per order day: the marts against captures minus refunds in silver",
)

PRODUCT_PRICE_HISTORY = _declare(
    "gold.product_price_history",
    _c(
        "sku string, price_cents bigint, currency string, updated_at timestamp, "
        "dbt_scd_id string, dbt_updated_at timestamp, dbt_valid_from timestamp, "
        "dbt_valid_to timestamp"
    ),
    keys=("dbt_scd_id",),
    description="SCD2 snapshot of product prices: one row per price a product had",
)

# Every table declared above, in the order of declaration.
TABLES: dict[str, Table] = dict(_DECLARED)
BRONZE_TABLES: tuple[Table, ...] = tuple(t for t in TABLES.values() if t.layer == "bronze")
SILVER_TABLES: tuple[Table, ...] = tuple(t for t in TABLES.values() if t.layer == "silver")
GOLD_TABLES: tuple[Table, ...] = tuple(t for t in TABLES.values() if t.layer == "gold")
# Gold tables the models write (delta-rs) rather than dbt: analysts read them like the marts
# (the endpoint and DuckDB name them), but no dbt model builds or tests them.
MODEL_OUTPUTS: tuple[Table, ...] = (DEMAND_FORECASTS, REORDER_SUGGESTIONS)
DBT_MARTS: tuple[Table, ...] = tuple(t for t in GOLD_TABLES if t not in MODEL_OUTPUTS)


def counting_table(event_type: str) -> Table | None:
    """The silver table that holds one row (distinct `event_id`) per event of this type."""
    for table in SILVER_TABLES:
        if event_type in table.counted_types:
            return table
    return None
