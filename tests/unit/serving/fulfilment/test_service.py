"""Fulfilment's use cases on the in-memory unit of work: shipments made once per event and per
warehouse, the warehouse steps, the order following its shipments (capture at SHIPPED), the
carrier's scans, and an order closed under its shipments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from serving.checkout import service as checkout
from serving.checkout.schemas import CheckoutRequest
from serving.errors import ApiError
from serving.fulfilment import service as fulfilment
from serving.fulfilment.domain import ShipmentStatus
from serving.fulfilment.schemas import PackRequest
from serving.orders import service as orders
from serving.security import Role, TokenClaims
from shoplake.config import Settings
from tests.support.fakes import FakeGateway
from tests.support.unit_of_work import MoneyPaths, money_paths

SKU = "LAMP-1"
BUYER = "buyer-1"
PARCEL = PackRequest(weight_g=900, length_mm=300, width_mm=200, height_mm=100)
S = ShipmentStatus


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def shop(gateway: FakeGateway, tmp_path: Path) -> MoneyPaths:
    settings = Settings(_env_file=None, stock_gate_enabled=False, state_dir=tmp_path)
    shop = money_paths(gateway, settings)
    shop.sell(SKU, units={"w1": 2, "w2": 3})  # an order of 4 is split 2 + 2
    return shop


def place(shop: MoneyPaths, quantity: int = 4) -> str:
    shop.carts.put(f"u:{BUYER}", [(SKU, quantity)])
    claims = TokenClaims(BUYER, Role.CUSTOMER, "access", "jti", datetime.now(UTC))
    request = CheckoutRequest.model_validate(
        {
            "payment_token": "tok_ok",
            "shipping_address": {
                "full_name": "Grace Hopper",
                "line1": "1 Harbour St",
                "city": "Arlington",
                "postal_code": "22201",
                "country": "US",
            },
        }
    )
    outcome = checkout.checkout(shop.uow, claims, f"key-{len(shop.orders.orders)}", request)
    return outcome.body.order.id


def status_of(shop: MoneyPaths, order_id: str) -> str:
    return str(shop.orders.orders[order_id]["status"])


def test_a_confirmed_order_gets_a_shipment_per_warehouse_once_per_event(shop: MoneyPaths) -> None:
    order_id = place(shop)

    created = fulfilment.create_for_order(shop.uow, "event-1", order_id)
    assert fulfilment.create_for_order(shop.uow, "event-1", order_id) == []  # redelivered
    assert fulfilment.create_for_order(shop.uow, "event-2", order_id) == []  # has shipments

    rows = sorted(shop.shipments.shipments.values(), key=lambda r: r["warehouse_id"])
    assert [r["id"] for r in rows] == created
    assert [(r["warehouse_id"], shop.shipments.lines[r["id"]][0]["quantity"]) for r in rows] == [
        ("w1", 2),
        ("w2", 2),
    ]
    assert rows[0]["ship_to"]["city"] == "Arlington"
    assert status_of(shop, order_id) == "FULFILLING"
    assert shop.uow.event_names().count("ShipmentCreated") == 2
    assert shop.shipments.inbox["event-2"]["outcome"] == "nothing_to_do:FULFILLING"


def test_an_unknown_or_cancelled_order_gets_no_shipment(shop: MoneyPaths) -> None:
    assert fulfilment.create_for_order(shop.uow, "event-x", "no-such-order") == []
    order_id = place(shop)
    orders.cancel_for_user(shop.uow, BUYER, order_id, None)
    assert fulfilment.create_for_order(shop.uow, "event-1", order_id) == []
    assert shop.shipments.shipments == {}
    assert shop.shipments.inbox["event-x"]["outcome"] == "unknown_order"


def _ship(shop: MoneyPaths, shipment_id: str) -> None:
    fulfilment.pick(shop.uow, shipment_id)
    fulfilment.pack(shop.uow, shipment_id, PARCEL)
    fulfilment.ship(shop.uow, shipment_id)


def test_the_order_ships_and_is_captured_when_its_last_shipment_leaves(
    shop: MoneyPaths, gateway: FakeGateway, tmp_path: Path
) -> None:
    order_id = place(shop)
    first, second = fulfilment.create_for_order(shop.uow, "event-1", order_id)

    _ship(shop, first)
    assert status_of(shop, order_id) == "FULFILLING" and gateway.calls["capture"] == 0
    packed = shop.shipments.shipments[first]
    assert packed["tracking_number"] == shop.carrier.registered[first]
    assert Path(packed["label_path"]) == tmp_path / "labels" / f"{first}.pdf"
    assert Path(packed["label_path"]).read_bytes().startswith(b"%PDF-")
    assert shop.carrier.handed_over == [packed["tracking_number"]]

    _ship(shop, second)
    assert status_of(shop, order_id) == "SHIPPED" and gateway.calls["capture"] == 1
    assert shop.payments.payments[0].status.value == "captured"


def test_steps_out_of_order_are_409_and_ask_the_carrier_nothing(shop: MoneyPaths) -> None:
    order_id = place(shop)
    first, _ = fulfilment.create_for_order(shop.uow, "event-1", order_id)
    steps: list[Callable[[], object]] = [
        lambda: fulfilment.pack(shop.uow, first, PARCEL),
        lambda: fulfilment.ship(shop.uow, first),
    ]
    for step in steps:
        with pytest.raises(ApiError) as refused:
            step()
        assert refused.value.status == 409
        assert refused.value.code == "ILLEGAL_SHIPMENT_TRANSITION"
    assert shop.carrier.registered == {} and shop.carrier.handed_over == []
    with pytest.raises(ApiError) as no_label:
        fulfilment.label_file(shop.uow, first)
    assert no_label.value.status == 404


def test_scans_deliver_the_shipments_and_then_the_order(shop: MoneyPaths) -> None:
    order_id = place(shop)
    first, second = fulfilment.create_for_order(shop.uow, "event-1", order_id)
    for shipment_id in (first, second):
        _ship(shop, shipment_id)
    numbers = [shop.shipments.shipments[i]["tracking_number"] for i in (first, second)]

    shop.carrier.script(numbers[0], S.IN_TRANSIT, S.DELIVERED)
    shop.carrier.script(numbers[1], S.IN_TRANSIT)
    run = fulfilment.track(shop.uow)
    assert (run.checked, run.scans, run.delivered, run.orders_delivered) == (2, 3, 1, 0)
    assert status_of(shop, order_id) == "SHIPPED"

    shop.carrier.script(numbers[1], S.OUT_FOR_DELIVERY, S.FAILED_ATTEMPT, S.DELIVERED)
    run = fulfilment.track(shop.uow)
    assert (run.checked, run.scans, run.delivered, run.orders_delivered) == (1, 3, 1, 1)
    assert status_of(shop, order_id) == "DELIVERED"
    assert shop.shipments.shipments[second]["attempts"] == 2
    assert fulfilment.track(shop.uow).checked == 0  # nothing is with the carrier any more

    tracking = fulfilment.tracking_for_user(shop.uow, BUYER, order_id)
    assert [len(s.scans) for s in tracking.shipments] == [2, 4]
    with pytest.raises(ApiError):
        fulfilment.tracking_for_user(shop.uow, "someone-else", order_id)


def test_a_closed_order_cancels_what_did_not_leave_and_refuses_the_next_step(
    shop: MoneyPaths,
) -> None:
    order_id = place(shop)
    first, second = fulfilment.create_for_order(shop.uow, "event-1", order_id)
    fulfilment.pick(shop.uow, first)
    orders.cancel_for_user(shop.uow, BUYER, order_id, None)

    with pytest.raises(ApiError) as refused:
        fulfilment.pack(shop.uow, first, PARCEL)
    assert refused.value.code == "ORDER_CLOSED"
    assert shop.shipments.shipments[first]["status"] == "CANCELLED"  # the refusal commits it
    assert fulfilment.close_for_order(shop.uow, "event-9", order_id, "order cancelled") == 1
    assert fulfilment.close_for_order(shop.uow, "event-9", order_id, "order cancelled") == 0
    assert shop.shipments.shipments[second]["status"] == "CANCELLED"
    assert shop.uow.event_names().count("ShipmentCancelled") == 2


def test_the_picklist_pages_oldest_first_with_units_per_sku(shop: MoneyPaths) -> None:
    made = []
    for _ in range(3):
        shop.sell(SKU, units={"w1": 2, "w2": 3})
        order_id = place(shop)
        made.append(fulfilment.create_for_order(shop.uow, f"event-{order_id}", order_id)[0])
        shop.clock.advance(1)
    page = fulfilment.picklist(shop.uow, "w1", limit=2, cursor=None)
    assert [item.id for item in page.items] == made[:2]
    assert [(t.sku, t.quantity) for t in page.totals] == [(SKU, 4)]
    rest = fulfilment.picklist(shop.uow, "w1", limit=2, cursor=page.next_cursor)
    assert [item.id for item in rest.items] == made[2:] and rest.next_cursor is None
    with pytest.raises(ApiError) as other:
        fulfilment.picklist(shop.uow, "w2", limit=2, cursor=page.next_cursor)
    assert other.value.status == 422
