"""The table registry of the lake: names, paths, schemas, partitioning and keys, declared once.

Schemas are Spark SQL DDL types kept as plain strings, so `import shoplake` stays free of Spark;
`spark_jobs` turns them into Delta tables and casts DataFrames to them. Every silver table says
which event types it derives rows from (`source_types`) and which of those it *accounts* for
(`counted_types`: one distinct `event_id` per event), so reconciliation can count per type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shoplake.events import DOMAINS, REGISTRY
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
USER_REGISTERED = _types("user", "UserRegistered")

BRONZE_EVENTS = Table(
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

BRONZE_REJECTED = Table(
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

ORDER_EVENTS = Table(
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

ORDERS = Table(
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

ORDER_ITEMS = Table(
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

PAYMENTS = Table(
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

INVENTORY_MOVEMENTS = Table(
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

CART_EVENTS = Table(
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

PRODUCT_VIEWS = Table(
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

SEARCHES = Table(
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

RECOMMENDATION_CLICKS = Table(
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

WISHLIST_EVENTS = Table(
    "silver.wishlist_events",
    _c(f"{EVENT_COLUMNS}, user_id string!, sku string!, action string!"),
    keys=("event_id",),
    partition_by=("event_date",),
    description="wishlist items added and removed",
    source_types=WISHLIST_TYPES,
    counted_types=WISHLIST_TYPES,
)

PRODUCT_CHANGES = Table(
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

PRODUCTS = Table(
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

USERS = Table(
    "silver.users",
    _c(f"{EVENT_COLUMNS}, user_id string!, email_sha256 string!, role string!, country string"),
    keys=("user_id",),
    description="registered users for analytics: no e-mail (only its SHA-256), no name, no address",
    source_types=USER_REGISTERED,
    counted_types=USER_REGISTERED,
)

BRONZE_TABLES: tuple[Table, ...] = (BRONZE_EVENTS, BRONZE_REJECTED)
SILVER_TABLES: tuple[Table, ...] = (
    ORDER_EVENTS,
    ORDERS,
    ORDER_ITEMS,
    PAYMENTS,
    INVENTORY_MOVEMENTS,
    CART_EVENTS,
    PRODUCT_VIEWS,
    SEARCHES,
    RECOMMENDATION_CLICKS,
    WISHLIST_EVENTS,
    PRODUCT_CHANGES,
    PRODUCTS,
    USERS,
)
TABLES: dict[str, Table] = {table.name: table for table in (*BRONZE_TABLES, *SILVER_TABLES)}


def counting_table(event_type: str) -> Table | None:
    """The silver table that holds one row (distinct `event_id`) per event of this type."""
    for table in SILVER_TABLES:
        if event_type in table.counted_types:
            return table
    return None
