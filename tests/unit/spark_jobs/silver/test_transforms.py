"""Silver transforms on small explicit rows: typing, dedup, late and out-of-order events."""

from __future__ import annotations

import hashlib

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from shoplake.events.catalog import PriceChanged, ProductCreated, ProductUpdated
from shoplake.events.inventory import StockAdjusted, StockReleased, StockReserved
from shoplake.events.order import (
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    OrderStatusChanged,
)
from shoplake.events.user import UserRegistered
from shoplake.lake import INVENTORY_MOVEMENTS, ORDER_ITEMS, ORDERS, PRODUCTS, USERS
from spark_jobs.silver import inventory, orders, products, users
from tests.support.lake import at, bronze, day, event

PLACED = OrderPlaced(
    order_id="o-1",
    user_id="u-1",
    lines=[
        OrderLine(sku="A", quantity=2, unit_price_cents=500),
        OrderLine(sku="B", quantity=1, unit_price_cents=1000, discount_cents=100),
    ],
    subtotal_cents=1900,
    shipping_cents=499,
    total_cents=2399,
    currency="EUR",
)


def test_order_lines_are_numbered_and_priced(spark: SparkSession) -> None:
    rows = bronze(spark, [event(PLACED, "e1", 0)])
    common = ("EUR", "u-1", "e1", "shop.order.OrderPlaced.v1", at(0).replace(tzinfo=None), day(0))
    expected = spark.createDataFrame(
        [("o-1", 1, "A", 2, 500, 0, 1000, *common), ("o-1", 2, "B", 1, 1000, 100, 900, *common)],
        ORDER_ITEMS.ddl(),
    )
    assertDataFrameEqual(orders.transform_items(rows), expected)


def test_an_order_folds_by_event_time_whatever_the_arrival_order(spark: SparkSession) -> None:
    confirmed = OrderConfirmed(order_id="o-1", user_id="u-1", total_cents=2399, currency="EUR")
    shipped = OrderStatusChanged(order_id="o-1", from_status="FULFILLING", to_status="SHIPPED")
    fulfilling = OrderStatusChanged(order_id="o-1", from_status="CONFIRMED", to_status="FULFILLING")
    # Arrival order: shipped (t=30) before the late fulfilling (t=20), and placed twice.
    arrived = [
        event(PLACED, "e1", 0),
        event(confirmed, "e2", 10),
        event(shipped, "e4", 30),
        event(fulfilling, "e3", 20),
        event(PLACED, "e1", 0),
    ]
    history = orders.transform_events(bronze(spark, arrived))
    assert history.count() == 4  # the duplicate delivery of e1 is dropped

    def ts(m: int) -> object:
        return at(m).replace(tzinfo=None)

    expected = spark.createDataFrame(
        [
            (
                "o-1", "u-1", "SHIPPED", 1900, 0, 499, 2399, "EUR", None, 2,
                ts(0), ts(10), None, None, ts(30), 4, "e4",
            )
        ],
        ORDERS.ddl(),
    )  # fmt: skip
    assertDataFrameEqual(orders.fold_orders(history), expected)
    # Folding the history in any order gives the same state.
    assertDataFrameEqual(
        orders.fold_orders(history.orderBy("event_time", ascending=False)), expected
    )


def test_a_product_takes_fields_from_its_newest_version(spark: SparkSession) -> None:
    created = ProductCreated(
        sku="A",
        version=1,
        name="Mug",
        brand="acme",
        category_path=["home"],
        price_cents=900,
        currency="EUR",
        status="active",
        attributes={"colour": "red"},
    )
    updated = ProductUpdated(
        sku="A",
        version=2,
        name="Big mug",
        brand="acme",
        category_path=["home", "kitchen"],
        price_cents=900,
        currency="EUR",
        status="active",
        attributes={"colour": "blue"},
        changed=["name"],
    )
    repriced = PriceChanged(
        sku="A", version=3, old_price_cents=900, new_price_cents=1200, currency="EUR"
    )
    # The price change (v3) arrives before the update (v2).
    changes = products.transform_changes(
        bronze(
            spark,
            [event(created, "p1", 0), event(repriced, "p3", 20), event(updated, "p2", 10)],
        )
    )
    ts = at(20).replace(tzinfo=None)
    expected = spark.createDataFrame(
        [
            (
                "A", 3, "Big mug", "", "acme", ["home", "kitchen"], 1200, "EUR", "active",
                '{"colour":"blue"}', [], at(0).replace(tzinfo=None), ts, None, ts, "p3",
            )
        ],
        PRODUCTS.ddl(),
    )  # fmt: skip
    assertDataFrameEqual(products.fold_products(changes), expected)


def test_users_keep_a_hash_of_the_email_and_the_newest_registration(spark: SparkSession) -> None:
    first = UserRegistered(user_id="u-1", email="Ann@Example.com ", role="customer", country="FR")
    again = UserRegistered(user_id="u-1", email="ann@example.com", role="ops", country="FR")
    rows = bronze(spark, [event(again, "r2", 5), event(first, "r1", 0)])
    digest = hashlib.sha256(b"ann@example.com").hexdigest()
    expected = spark.createDataFrame(
        [
            (
                "r2", "shop.user.UserRegistered.v1", at(5).replace(tzinfo=None), day(5),
                "u-1", digest, "ops", "FR",
            )
        ],
        USERS.ddl(),
    )  # fmt: skip
    result = users.transform(rows)
    assertDataFrameEqual(result, expected)
    assert "email" not in result.columns


def test_stock_movements_carry_their_signed_effect(spark: SparkSession) -> None:
    rows = bronze(
        spark,
        [
            event(
                StockReserved(
                    sku="A", warehouse_id="W", on_hand=10, reserved=2, quantity=2, order_id="o"
                ),
                "s1",
                0,
            ),
            event(
                StockReleased(
                    sku="A",
                    warehouse_id="W",
                    on_hand=10,
                    reserved=0,
                    quantity=2,
                    order_id="o",
                    reason="cancelled",
                ),
                "s2",
                1,
            ),
            event(
                StockAdjusted(
                    sku="A", warehouse_id="W", on_hand=7, reserved=0, delta=-3, reason="broken"
                ),
                "s3",
                2,
            ),
        ],
    )

    def row(eid: str, fact: str, m: int, *rest: object) -> tuple[object, ...]:
        return (
            eid,
            f"shop.inventory.{fact}.v1",
            at(m).replace(tzinfo=None),
            day(m),
            "A",
            "W",
            *rest,
        )

    expected = spark.createDataFrame(
        [
            row("s1", "StockReserved", 0, "RESERVED", 2, 0, 2, 10, 2, "o", None, None),
            row("s2", "StockReleased", 1, "RELEASED", 2, 0, -2, 10, 0, "o", "cancelled", None),
            row("s3", "StockAdjusted", 2, "ADJUSTED", -3, -3, 0, 7, 0, None, "broken", None),
        ],
        INVENTORY_MOVEMENTS.ddl(),
    )
    assertDataFrameEqual(inventory.transform(rows), expected)
