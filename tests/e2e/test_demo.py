"""`shoplake demo` tells the whole story: each chapter leaves its facts where it says it does."""

from __future__ import annotations

import re
from collections import Counter

import redis
import sqlalchemy as sa
from deltalake import DeltaTable
from elasticsearch import Elasticsearch
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from typer.testing import CliRunner

from demo.catalog import generate
from demo.roundtrip import roundtrip_paths
from demo.story import DEMO_PRODUCTS
from serving.accounts.tables import users
from serving.cart import store as cart_store
from serving.cart.service import user_cart_id
from serving.fulfilment.tables import shipments
from serving.orders.tables import orders
from serving.wishlist.tables import wishlist_items
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.lake import (
    ARCHIVE_TABLES,
    CART_EVENTS,
    DEMAND_FORECASTS,
    NOTIFICATIONS,
    ORDER_ARCHIVE_BATCHES,
    PRODUCT_VIEWS,
    PRODUCTS,
    PURCHASE_ORDER_EVENTS,
    SALES_DAILY,
    SHIPMENTS,
    USERS,
)
from shoplake.outbox import outbox
from shoplake.sql_endpoint import query
from shoplake_cli.main import app
from tests.support.mailpit import Mailbox


def test_the_demo_lands_every_chapter_in_the_stores_it_names(
    spark: SparkSession, settings: Settings
) -> None:
    # `spark` makes the demo reuse the suite's one session instead of starting its own.
    table_path, _ = roundtrip_paths(settings)
    before = DeltaTable(str(table_path)).version() if (table_path / "_delta_log").exists() else -1

    result = CliRunner().invoke(app, ["demo"])

    assert result.exit_code == 0, result.output
    # 1. The round trip wrote a new version of its Delta table.
    assert DeltaTable(str(table_path)).version() > before

    # 2. The shopper story: the shopper exists, wishlisted one product and holds a cart with
    #    two lines and the coupon; every event the story recorded left the outbox.
    email = re.search(r"shopper-[0-9a-f]{8}@example\.com", result.output)
    assert email is not None, result.output
    engine = make_engine(settings, pool_size=1)
    try:
        with engine.connect() as conn:
            user_id = str(
                conn.execute(sa.select(users.c.id).where(users.c.email == email[0])).scalar_one()
            )
            wished = conn.execute(
                sa.select(sa.func.count())
                .select_from(wishlist_items)
                .where(wishlist_items.c.user_id == user_id)
            ).scalar_one()
            # The story's own events (the API's maintenance task may record others meanwhile,
            # e.g. releasing holds that earlier runs left to expire).
            story_keys = [user_id, user_cart_id(user_id), *(p.sku for p in generate(DEMO_PRODUCTS))]
            unsent = conn.execute(
                sa.select(sa.func.count())
                .select_from(outbox)
                .where(outbox.c.sent_at.is_(None), outbox.c.key.in_(story_keys))
            ).scalar_one()
    finally:
        engine.dispose()
    assert wished == 1
    assert unsent == 0
    with redis.Redis.from_url(settings.redis_endpoint, decode_responses=True) as client:
        cart = cart_store.read(client, user_cart_id(user_id))
    assert sorted(line.quantity for line in cart.lines) == [1, 2], cart
    assert cart.coupon == "WELCOME5", cart

    # 3. The lake: the shopper, the demo catalog, the views and the cart are in silver.
    def silver(table: str) -> int:
        lake_table = {t.name: t for t in (USERS, PRODUCTS, PRODUCT_VIEWS, CART_EVENTS)}[table]
        frame = spark.read.format("delta").load(lake_table.path(settings.lake_path))
        column = "sku" if table == "silver.products" else "user_id"
        wanted = [p.sku for p in generate(DEMO_PRODUCTS)] if column == "sku" else [user_id]
        return frame.where(F.col(column).isin(wanted)).count()

    assert silver("silver.users") == 1
    assert silver("silver.products") == DEMO_PRODUCTS
    assert silver("silver.product_views") == 5
    assert silver("silver.cart_events") == 2
    assert "lake reconciliation" in result.output and "≠" not in result.output

    # 4. Search: the demo catalog is in the index behind the alias.
    es = Elasticsearch(settings.elasticsearch_endpoint)
    try:
        found = es.count(
            index=settings.search_alias,
            query={"terms": {"sku": [p.sku for p in generate(DEMO_PRODUCTS)]}},
        )["count"]
    finally:
        es.close()
    assert found == DEMO_PRODUCTS

    # 5. Suppliers and notifications: the supplier's order restocked the wished product, and
    #    the shopper got its alerts and the notice of a registration with their e-mail, once
    #    each; the lake holds the order's facts and the messages sent to the shopper.
    box = Mailbox(settings)
    try:
        subjects = Counter(m["Subject"].split(":")[0] for m in box.to(email[0]))
    finally:
        box.close()
    for subject in (
        "Back in stock",
        "Price drop",
        "Someone tried to register with your e-mail address",
    ):
        assert subjects[subject] == 1, subjects  # each once (other chapters may add their own)
    assert max(subjects.values()) == 1, subjects
    assert "Mailpit received for" in result.output and settings.mailpit_endpoint in result.output
    po_number = re.search(r"(PO-\d{6}): 3 lines", result.output)
    assert po_number is not None, result.output
    orders = spark.read.format("delta").load(PURCHASE_ORDER_EVENTS.path(settings.lake_path))
    actions = {r.action for r in orders.where(F.col("number") == po_number[1]).collect()}
    assert actions == {"CREATED"}  # the number is on the creation fact; the others share its id
    po_id = orders.where(F.col("number") == po_number[1]).first()
    assert po_id is not None
    history = {
        r.action
        for r in orders.where(F.col("purchase_order_id") == po_id.purchase_order_id).collect()
    }
    assert history == {"CREATED", "SUBMITTED", "ACKNOWLEDGED", "SHIP_NOTICE", "RECEIVED", "CLOSED"}
    sent = spark.read.format("delta").load(NOTIFICATIONS.path(settings.lake_path))
    told = {
        (r.kind, r.channel)
        for r in sent.where((F.col("user_id") == user_id) & (F.col("action") == "SENT")).collect()
    }
    assert told == {
        ("back_in_stock", "email"),
        ("back_in_stock", "in_app"),
        ("price_dropped", "email"),
        ("price_dropped", "in_app"),
        ("account_exists", "email"),
    }

    # 6. The analysts' chapter: a small shopper history landed with the story, the gates passed,
    #    the marts the demo shows were built, revenue reconciled with Postgres, and the demo
    #    names where the SQL endpoint and the dashboards are.
    for shown in (
        "shopper history",
        "quality gate: silver",
        "quality gate: gold",
        "daily revenue (gold.sales_daily)",
        "the funnel (gold.funnel_daily)",
        "net revenue: the marts against Postgres",
        f"SQL endpoint: jdbc:hive2://{settings.bind_host}:{settings.spark_sql_port}",
        f"dashboards: {settings.dashboards_endpoint}",
    ):
        assert shown in result.output, shown
    sales = DeltaTable(SALES_DAILY.path(settings.lake_path)).to_pyarrow_dataset()
    assert sales.count_rows() > 0

    # 7. After checkout: the buyer's order went to the door in two shipments with their labels,
    #    and their old order is in the archive, not in Postgres; the lake has both.
    _after_checkout_landed(spark, settings, result.output)

    # 8. The models' chapter: the lists went to Redis, a history's shopper got personal
    #    recommendations, and the forecasts are in gold, by name in the SQL endpoint at once.
    assert "shoppers' lists" in result.output and "asks the API (" in result.output
    assert f"{DEMAND_FORECASTS.name}: " in result.output
    assert "named in the SQL endpoint" in result.output
    ((forecasts,),) = query(settings, f"select count(*) from {DEMAND_FORECASTS.name}")
    assert forecasts > 0


def _after_checkout_landed(spark: SparkSession, settings: Settings, output: str) -> None:
    email = re.search(r"buyer-[0-9a-f]{8}@example\.com", output)
    assert email is not None, output
    engine = make_engine(settings, pool_size=1)
    try:
        with engine.connect() as conn:
            user_id = str(
                conn.execute(sa.select(users.c.id).where(users.c.email == email[0])).scalar_one()
            )
            live = conn.execute(
                sa.select(orders.c.id, orders.c.status).where(orders.c.user_id == user_id)
            ).all()
            (order_id, status) = live[0]
            parcels = conn.execute(
                sa.select(shipments.c.id, shipments.c.status, shipments.c.label_path).where(
                    shipments.c.order_id == order_id
                )
            ).all()
    finally:
        engine.dispose()
    assert len(live) == 1 and status == "DELIVERED"
    assert len(parcels) == 2 and {p.status for p in parcels} == {"DELIVERED"}
    for parcel in parcels:
        with open(parcel.label_path, "rb") as label:
            assert label.read(5) == b"%PDF-"
    archived = DeltaTable(ARCHIVE_TABLES["orders"].path(settings.lake_path)).to_pyarrow_table(
        filters=[("user_id", "=", user_id)]
    )
    assert archived.num_rows == 1 and archived["status"][0].as_py() == "CANCELLED"
    silver = spark.read.format("delta").load(SHIPMENTS.path(settings.lake_path))
    delivered = silver.where(F.col("order_id") == order_id).where(F.col("status") == "DELIVERED")
    assert delivered.count() == 2
    batches = spark.read.format("delta").load(ORDER_ARCHIVE_BATCHES.path(settings.lake_path))
    assert batches.count() >= 1
    # The buyer was told by e-mail that the order is confirmed, once. (Shipped and delivered
    # mails come from the shipment topic, which a fresh stack creates during this very chapter:
    # the consumer may not have it in its subscription yet, so they are not asserted here.)
    box = Mailbox(settings)
    try:
        about_order = [m["Subject"] for m in box.to(email[0]) if str(order_id)[:8] in m["Subject"]]
    finally:
        box.close()
    assert sum("is confirmed" in subject for subject in about_order) == 1, about_order
