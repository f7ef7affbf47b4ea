"""Silver transforms of the events after checkout, on small explicit rows: a shipment folded
by event time whatever the arrival order, return events with their units, archive batches."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from shoplake.events.archive import OrdersArchived
from shoplake.events.returns import ReceivedLine, ReturnLine, ReturnReceived, ReturnRequested
from shoplake.events.shipment import (
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentLine,
    ShipmentPacked,
    ShipmentShipped,
)
from shoplake.lake import SHIPMENTS
from spark_jobs.silver import order_archive, returns, shipments
from tests.support.lake import at, bronze, event

IDS = {"shipment_id": "s-1", "order_id": "o-1", "warehouse_id": "w1"}
PARCEL = {"carrier": "sandbox", "tracking_number": "SB000000164XX"}


def ts(minutes: int) -> object:
    return at(minutes).replace(tzinfo=None)


def test_a_shipment_folds_by_event_time_whatever_the_arrival_order(spark: SparkSession) -> None:
    created = ShipmentCreated(**IDS, lines=[ShipmentLine(sku="A", quantity=2)], unit_count=2)
    packed = ShipmentPacked(
        **IDS, **PARCEL, weight_g=900, length_mm=300, width_mm=200, height_mm=100
    )
    shipped = ShipmentShipped(**IDS, **PARCEL, tracking_url="https://t/1")
    delivered = ShipmentDelivered(**IDS, **PARCEL, attempts=2)
    arrived = [
        event(delivered, "e4", 90),
        event(created, "e1", 0),
        event(shipped, "e3", 20),
        event(packed, "e2", 10),
        event(created, "e1", 0),  # delivered twice
    ]
    history = shipments.transform_events(bronze(spark, arrived))
    assert sorted(r.status for r in history.collect()) == [
        "CREATED",
        "DELIVERED",
        "PACKED",
        "SHIPPED",
    ]
    expected = spark.createDataFrame(
        [
            (
                "s-1", "o-1", "w1", "DELIVERED", "sandbox", "SB000000164XX", 2, 900,
                ts(0), ts(10), ts(20), ts(90), None, 2, ts(90), 4, "e4",
            )
        ],
        SHIPMENTS.ddl(),
    )  # fmt: skip
    assertDataFrameEqual(shipments.fold_shipments(history), expected)


def test_return_events_carry_their_units(spark: SparkSession) -> None:
    requested = ReturnRequested(
        return_id="r-1",
        order_id="o-1",
        user_id="u-1",
        lines=[ReturnLine(sku="A", quantity=2), ReturnLine(sku="B", quantity=1)],
        reason="too big",
    )
    received = ReturnReceived(
        return_id="r-1",
        order_id="o-1",
        received=[
            ReceivedLine(sku="A", quantity=2, disposition="restock", warehouse_id="w1"),
            ReceivedLine(sku="B", quantity=1, disposition="write_off", warehouse_id="w1"),
        ],
        restocked_units=2,
        written_off_units=1,
    )
    rows = returns.transform(bronze(spark, [event(requested, "e1", 0), event(received, "e2", 5)]))
    got = {r.status: (r.unit_count, r.restocked_units, r.written_off_units) for r in rows.collect()}
    assert got == {"REQUESTED": (3, None, None), "RECEIVED": (3, 2, 1)}


def test_an_archive_batch_is_one_row(spark: SparkSession) -> None:
    batch = OrdersArchived(
        batch_id="7",
        cutoff=at(0),
        order_count=3,
        row_count=40,
        total_cents=12_345,
        months=["2025-01", "2025-02"],
    )
    (row,) = order_archive.transform(bronze(spark, [event(batch, "e1", 0)])).collect()
    assert (row.batch_id, row.order_count, row.total_cents, row.months) == (
        "7",
        3,
        12_345,
        ["2025-01", "2025-02"],
    )
