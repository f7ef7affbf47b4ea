"""Checkout against real Postgres and Redis, with an in-memory gateway (FakeGateway) injected on
app.state: happy path, declines, idempotency under 50 concurrent duplicates, out of stock, the
saga stopped at each step and settled by the sweeper, and a flash sale through the HTTP API."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.checkout import service as checkout
from serving.checkout.tables import checkout_requests
from serving.inventory import service as inventory
from serving.inventory.tables import stock_reservations
from serving.orders import service as orders_service
from serving.orders.store import OWNED_TTL_S, RedisOwnedSkus
from serving.orders.tables import orders
from serving.payments.factory import make_gateway
from serving.payments.tables import payments
from serving.unit_of_work import SqlUnitOfWork
from shoplake.config import Settings
from shoplake.db import make_engine
from tests.support.callers import Caller
from tests.support.fakes import FakeGateway, injected_gateway
from tests.support.shop_api import (
    ADDRESS,
    do_checkout,
    fill_cart,
    level,
    order_events,
    order_of_key,
    order_row,
    product,
    token_headers,
)


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings, pool_size=10)
    yield engine
    engine.dispose()


@pytest.fixture
def fake(client: TestClient) -> Iterator[FakeGateway]:
    with injected_gateway(client, FakeGateway()) as gateway:
        yield gateway


@pytest.fixture
def sandbox(client: TestClient, api_settings: Settings) -> Iterator[Any]:
    """The gateway `serving.payments.factory` makes (the stack's sandbox service)."""
    with injected_gateway(client, make_gateway(api_settings)) as gateway:
        yield gateway


def sweep_now(engine: Engine, client: redis.Redis, settings: Settings, fake: FakeGateway) -> Any:
    return checkout.sweep(engine, client, settings, fake, grace_s=0)


# ---------------------------------------------------------------- the happy path and its replays


def test_checkout_confirms_sells_the_stock_charges_once_and_empties_the_cart(
    client: TestClient, admin: Caller, api_settings: Settings, engine: Engine, fake: FakeGateway
) -> None:
    sku = product(client, admin, units=10)
    headers = token_headers(api_settings)
    fill_cart(client, headers, sku, 3)
    key = f"k-{uuid.uuid4().hex}"

    response = do_checkout(client, headers, key)

    assert response.status_code == 201, response.text
    order = response.json()["order"]
    assert response.json()["replayed"] is False
    assert order["status"] == "CONFIRMED"
    # Shipping to GB (1.5 kg at the default 500 g a unit): the 2 kg band, priced and explained.
    assert order["shipping_cents"] == 1195 and order["shipping"]["rule"] == "band"
    assert order["total_cents"] == 3 * 2500 + 1195 and order["currency"] == "EUR"
    assert fake.payments[key].amount_cents == order["total_cents"]
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [(sku, 3)]
    assert [h["to_status"] for h in order["history"]] == ["PENDING_PAYMENT", "CONFIRMED"]
    assert order["payment"]["status"] == "authorized"
    assert level(engine, sku) == (7, 0)
    assert fake.calls["authorize"] == 1 and fake.authorized_keys() == [key]
    assert client.get("/v1/cart", headers=headers).json()["lines"] == []
    assert order_events(engine, order["id"]) == {
        "OrderPlaced": 1,
        "OrderStatusChanged": 1,
        "OrderConfirmed": 1,
        "PaymentAuthorized": 1,
    }
    with engine.connect() as conn:
        state = conn.execute(
            sa.select(checkout_requests.c.state).where(checkout_requests.c.idempotency_key == key)
        ).scalar_one()
        stored = conn.execute(sa.select(payments).where(payments.c.order_id == order["id"]))
        columns = set(stored.keys())
    assert state == "confirmed"
    assert "token" not in " ".join(columns)  # only the gateway's reference is kept

    again = do_checkout(client, headers, key)
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True and again.json()["order"]["id"] == order["id"]
    assert fake.calls["authorize"] == 1
    assert level(engine, sku) == (7, 0)


def test_a_key_reused_for_another_request_or_by_another_user_is_refused(
    client: TestClient, admin: Caller, api_settings: Settings, fake: FakeGateway
) -> None:
    sku = product(client, admin, units=10)
    headers = token_headers(api_settings)
    fill_cart(client, headers, sku, 1)
    key = f"k-{uuid.uuid4().hex}"
    assert do_checkout(client, headers, key).status_code == 201
    other_body = client.post(
        "/v1/checkout",
        json={"payment_token": "tok_ok", "shipping_address": {**ADDRESS, "city": "Paris"}},
        headers={**headers, "Idempotency-Key": key},
    )
    assert other_body.status_code == 422
    assert other_body.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    stranger = do_checkout(client, token_headers(api_settings), key)
    assert stranger.status_code == 422


@pytest.mark.parametrize(
    ("headers_extra", "body", "culprit"),
    [
        ({}, {"payment_token": "tok_ok", "shipping_address": ADDRESS}, "Idempotency-Key"),
        (
            {"Idempotency-Key": "short"},
            {"payment_token": "tok_ok", "shipping_address": ADDRESS},
            "Idempotency-Key",
        ),
        # Everything else valid: the card number alone is what is refused.
        (
            {"Idempotency-Key": "a-good-key-1"},
            {"payment_token": "4242424242424242", "shipping_address": ADDRESS},
            "payment_token",
        ),
        (
            {"Idempotency-Key": "a-good-key-2"},
            {"payment_token": "tok_ok", "shipping_address": {**ADDRESS, "country": "gb"}},
            "country",
        ),
    ],
)
def test_bad_input_is_a_422_and_a_card_number_is_refused(
    client: TestClient,
    api_settings: Settings,
    engine: Engine,
    fake: FakeGateway,
    headers_extra: dict[str, str],
    body: dict[str, Any],
    culprit: str,
) -> None:
    response = client.post(
        "/v1/checkout", json=body, headers={**token_headers(api_settings), **headers_extra}
    )
    assert response.status_code == 422, response.text
    failing = [detail["loc"] for detail in response.json()["error"]["details"]]
    assert failing and all(culprit in loc for loc in failing), failing  # the only problem named
    assert "4242424242424242" not in response.text
    assert fake.calls["authorize"] == 0
    key = headers_extra.get("Idempotency-Key")
    if key is not None:  # nothing of the refused request was kept
        with engine.connect() as conn:
            kept = conn.execute(
                sa.select(sa.func.count())
                .select_from(checkout_requests)
                .where(checkout_requests.c.idempotency_key == key)
            ).scalar_one()
        assert kept == 0


def test_an_empty_cart_cannot_check_out(
    client: TestClient, api_settings: Settings, fake: FakeGateway
) -> None:
    response = do_checkout(client, token_headers(api_settings), f"k-{uuid.uuid4().hex}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "CART_EMPTY"


def test_anonymous_checkout_is_401(client: TestClient) -> None:
    response = client.post(
        "/v1/checkout",
        json={"payment_token": "tok_ok", "shipping_address": ADDRESS},
        headers={"Idempotency-Key": f"k-{uuid.uuid4().hex}"},
    )
    assert response.status_code == 401


# ---------------------------------------------------------------- failures


def test_a_declined_payment_releases_the_stock_and_answers_402(
    client: TestClient, admin: Caller, api_settings: Settings, engine: Engine, fake: FakeGateway
) -> None:
    sku = product(client, admin, units=5)
    headers = token_headers(api_settings)
    fill_cart(client, headers, sku, 2)
    key = f"k-{uuid.uuid4().hex}"

    response = do_checkout(client, headers, key, token="tok_decline")

    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == "PAYMENT_DECLINED"
    order_id = response.json()["error"]["details"]["order_id"]
    assert order_row(engine, order_id)["status"] == "PAYMENT_FAILED"
    assert level(engine, sku) == (5, 0)
    assert order_events(engine, order_id) == {
        "OrderPlaced": 1,
        "OrderStatusChanged": 1,
        "PaymentDeclined": 1,
    }
    # The cart is kept for another try, which needs a new key.
    assert len(client.get("/v1/cart", headers=headers).json()["lines"]) == 1
    assert do_checkout(client, headers, key, token="tok_decline").status_code == 402
    assert fake.calls["authorize"] == 1
    retry = do_checkout(client, headers, f"k-{uuid.uuid4().hex}", token="tok_ok")
    assert retry.status_code == 201 and level(engine, sku) == (3, 0)


def test_out_of_stock_is_409_naming_the_sku_and_leaves_nothing_behind(
    client: TestClient, admin: Caller, api_settings: Settings, engine: Engine, fake: FakeGateway
) -> None:
    plenty = product(client, admin, units=10)
    short = product(client, admin, units=1)
    headers = token_headers(api_settings)
    fill_cart(client, headers, plenty, 1)
    fill_cart(client, headers, short, 1)
    # Someone else buys the last unit of `short` first.
    rival = token_headers(api_settings)
    fill_cart(client, rival, short, 1)
    assert do_checkout(client, rival, f"k-{uuid.uuid4().hex}").status_code == 201
    key = f"k-{uuid.uuid4().hex}"

    response = do_checkout(client, headers, key)

    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "OUT_OF_STOCK"
    assert short in str(response.json()["error"]["details"])
    assert level(engine, plenty) == (10, 0)
    assert order_of_key(engine, key) is None
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(checkout_requests)
                .where(checkout_requests.c.idempotency_key == key)
            ).scalar_one()
            == 0
        )
    assert fake.calls["authorize"] == 1  # the rival's only


def test_an_unavailable_gateway_compensates_at_once_with_503(
    client: TestClient, admin: Caller, api_settings: Settings, engine: Engine, fake: FakeGateway
) -> None:
    sku = product(client, admin, units=4)
    headers = token_headers(api_settings)
    fill_cart(client, headers, sku, 4)
    key = f"k-{uuid.uuid4().hex}"
    response = do_checkout(client, headers, key, token="tok_unavailable")
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "PAYMENT_UNAVAILABLE"
    order = order_of_key(engine, key)
    assert order["status"] == "PAYMENT_FAILED"
    assert level(engine, sku) == (4, 0)
    assert fake.authorized_keys() == []


# ---------------------------------------------------------------- idempotency under concurrency


def test_fifty_concurrent_requests_with_one_key_make_one_order_and_one_authorization(
    client: TestClient, admin: Caller, api_settings: Settings, engine: Engine, fake: FakeGateway
) -> None:
    sku = product(client, admin, units=10)
    headers = token_headers(api_settings)
    fill_cart(client, headers, sku, 2)
    key = f"k-{uuid.uuid4().hex}"

    with ThreadPoolExecutor(max_workers=25) as pool:
        responses = list(pool.map(lambda _: do_checkout(client, headers, key), range(50)))

    codes = Counter(r.status_code for r in responses)
    assert set(codes) <= {200, 201, 202}, codes
    assert codes[201] == 1
    assert len({r.json()["order"]["id"] for r in responses}) == 1
    with engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).select_from(orders).where(orders.c.idempotency_key == key)
        ).scalar_one()
    assert count == 1
    assert fake.calls["authorize"] == 1 and fake.authorized_keys() == [key]
    assert level(engine, sku) == (8, 0)


# ---------------------------------------------------------------- a saga stopped half-way


def test_a_crash_after_step_one_is_settled_by_the_sweeper_as_payment_failed(
    client: TestClient,
    admin: Caller,
    api_settings: Settings,
    engine: Engine,
    redis_client: redis.Redis,
    fake: FakeGateway,
) -> None:
    sku = product(client, admin, units=6)
    headers = token_headers(api_settings)
    fill_cart(client, headers, sku, 2)
    key = f"k-{uuid.uuid4().hex}"
    # The crash escapes the handler: the client gets the JSON 500, the order stays behind.
    crashed = do_checkout(client, headers, key, token="tok_crash_before")
    assert crashed.status_code == 500 and crashed.json()["error"]["code"] == "INTERNAL"
    order = order_of_key(engine, key)
    assert order["status"] == "PENDING_PAYMENT" and level(engine, sku) == (6, 2)
    replay = do_checkout(client, headers, key, token="tok_crash_before")
    assert replay.status_code == 202 and replay.json()["order"]["id"] == order["id"]

    swept = sweep_now(engine, redis_client, api_settings, fake)

    assert swept.failed >= 1
    assert order_row(engine, order["id"])["status"] == "PAYMENT_FAILED"
    assert level(engine, sku) == (6, 0)
    assert fake.authorized_keys() == []
    assert order_events(engine, order["id"]) == {"OrderPlaced": 1, "OrderStatusChanged": 1}


def test_a_crash_after_authorizing_is_settled_by_the_sweeper_as_confirmed(
    client: TestClient,
    admin: Caller,
    api_settings: Settings,
    engine: Engine,
    redis_client: redis.Redis,
    fake: FakeGateway,
) -> None:
    sku = product(client, admin, units=6)
    headers = token_headers(api_settings)
    fill_cart(client, headers, sku, 2)
    key = f"k-{uuid.uuid4().hex}"
    # The crash escapes the handler: the client gets the JSON 500, the order stays behind.
    crashed = do_checkout(client, headers, key, token="tok_crash_after")
    assert crashed.status_code == 500 and crashed.json()["error"]["code"] == "INTERNAL"
    order = order_of_key(engine, key)
    assert order["status"] == "PENDING_PAYMENT"

    swept = sweep_now(engine, redis_client, api_settings, fake)

    assert swept.confirmed >= 1
    assert order_row(engine, order["id"])["status"] == "CONFIRMED"
    assert level(engine, sku) == (4, 0)
    assert fake.calls["authorize"] == 1 and fake.authorized_keys() == [key]
    with engine.connect() as conn:
        paid = conn.execute(sa.select(payments).where(payments.c.order_id == order["id"])).all()
    assert len(paid) == 1
    assert order_events(engine, order["id"]) == {
        "OrderPlaced": 1,
        "OrderStatusChanged": 1,
        "OrderConfirmed": 1,
        "PaymentAuthorized": 1,
    }
    # A second sweep finds nothing left to do for it.
    sweep_now(engine, redis_client, api_settings, fake)
    assert order_events(engine, order["id"])["OrderStatusChanged"] == 1


def test_an_ambiguous_timeout_answers_503_and_the_sweeper_confirms(
    client: TestClient,
    admin: Caller,
    api_settings: Settings,
    engine: Engine,
    redis_client: redis.Redis,
    fake: FakeGateway,
) -> None:
    sku = product(client, admin, units=3)
    headers = token_headers(api_settings)
    fill_cart(client, headers, sku, 1)
    key = f"k-{uuid.uuid4().hex}"
    response = do_checkout(client, headers, key, token="tok_timeout")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "PAYMENT_PENDING"
    assert do_checkout(client, headers, key, token="tok_timeout").status_code == 202
    sweep_now(engine, redis_client, api_settings, fake)
    assert order_of_key(engine, key)["status"] == "CONFIRMED"
    assert level(engine, sku) == (2, 0)
    assert do_checkout(client, headers, key, token="tok_timeout").status_code == 200


def test_an_authorization_whose_hold_expired_is_voided_and_the_order_cancelled(
    client: TestClient,
    admin: Caller,
    api_settings: Settings,
    engine: Engine,
    redis_client: redis.Redis,
    fake: FakeGateway,
) -> None:
    sku = product(client, admin, units=5)
    headers = token_headers(api_settings)
    fill_cart(client, headers, sku, 5)
    key = f"k-{uuid.uuid4().hex}"
    # The crash escapes the handler: the client gets the JSON 500, the order stays behind.
    crashed = do_checkout(client, headers, key, token="tok_crash_after")
    assert crashed.status_code == 500 and crashed.json()["error"]["code"] == "INTERNAL"
    order = order_of_key(engine, key)
    uow = SqlUnitOfWork(engine, stores={inventory.GATE: None})
    with uow:  # what the inventory expiry sweep does to an unpaid hold
        inventory.release(uow, order["id"], "expired")
        uow.commit()
    assert level(engine, sku) == (5, 0)

    sweep_now(engine, redis_client, api_settings, fake)

    assert order_row(engine, order["id"])["status"] == "CANCELLED"
    assert fake.payments[key].status.value == "voided"
    assert level(engine, sku) == (5, 0)
    with engine.connect() as conn:
        held = conn.execute(
            sa.select(sa.func.count())
            .select_from(stock_reservations)
            .where(stock_reservations.c.order_id == order["id"])
            .where(stock_reservations.c.status == "held")
        ).scalar_one()
    assert held == 0
    assert order_events(engine, order["id"]) == {
        "OrderPlaced": 1,
        "OrderStatusChanged": 1,
        "OrderCancelled": 1,
        "PaymentAuthorized": 1,
        "PaymentVoided": 1,
    }


def test_an_authorization_arriving_after_the_sweeper_failed_the_order_is_voided(
    client: TestClient,
    admin: Caller,
    api_settings: Settings,
    engine: Engine,
    redis_client: redis.Redis,
    fake: FakeGateway,
) -> None:
    sku = product(client, admin, units=3)
    headers = token_headers(api_settings)
    fill_cart(client, headers, sku, 1)
    key = f"k-{uuid.uuid4().hex}"
    # The crash escapes the handler: the client gets the JSON 500, the order stays behind.
    crashed = do_checkout(client, headers, key, token="tok_crash_before")
    assert crashed.status_code == 500 and crashed.json()["error"]["code"] == "INTERNAL"
    order = order_of_key(engine, key)
    sweep_now(engine, redis_client, api_settings, fake)  # the gateway has not seen the key yet
    assert order_row(engine, order["id"])["status"] == "PAYMENT_FAILED"
    # The slow authorization lands now, and the saga's step 3 runs late.
    late = fake.authorize(
        idempotency_key=key, token="tok_ok", amount_cents=order["total_cents"], currency="EUR"
    )

    uow = SqlUnitOfWork(engine, redis_client=redis_client, settings=api_settings, gateway=fake)
    status = checkout.settle_payment(uow, order["id"], late, reason=None)

    assert status.value == "PAYMENT_FAILED"
    assert fake.payments[key].status.value == "voided"
    assert level(engine, sku) == (3, 0)


def test_the_apps_periodic_sweep_survives_a_missing_gateway(
    engine: Engine, redis_client: redis.Redis, api_settings: Settings
) -> None:
    def no_gateway() -> FakeGateway:
        raise RuntimeError("no gateway configured")

    assert checkout.sweep_in_app(engine, redis_client, api_settings, no_gateway) is None


# ---------------------------------------------------------------- a flash sale


def test_flash_sale_sells_exactly_the_stock_through_the_http_api(
    client: TestClient, admin: Caller, api_settings: Settings, engine: Engine, sandbox: Any
) -> None:
    """2,000 shoppers, 100 units, the stack's sandbox gateway: no oversell, no double charge."""
    units, shoppers = 100, 2_000
    sku = product(client, admin, units=units)
    headers = [token_headers(api_settings) for _ in range(shoppers)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda h: fill_cart(client, h, sku, 1), headers))
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        responses = list(
            pool.map(lambda h: do_checkout(client, h, f"k-{uuid.uuid4().hex}"), headers)
        )
    elapsed = time.perf_counter() - began
    keys = [r.request.headers["Idempotency-Key"] for r in responses]

    codes = Counter(r.status_code for r in responses)
    assert codes == {201: units, 409: shoppers - units}, codes
    assert all(
        r.json()["error"]["code"] == "OUT_OF_STOCK" for r in responses if r.status_code == 409
    )
    assert level(engine, sku) == (0, 0)
    charged = [key for key in keys if sandbox.get(key) is not None]
    assert len(charged) == units  # exactly the winners were authorized, each once
    assert all(sandbox.get(key).status.value == "authorized" for key in charged)
    with engine.connect() as conn:
        confirmed = conn.execute(
            sa.select(sa.func.count())
            .select_from(orders)
            .where(orders.c.status == "CONFIRMED")
            .where(
                orders.c.id.in_(
                    [r.json()["order"]["id"] for r in responses if r.status_code == 201]
                )
            )
        ).scalar_one()
    assert confirmed == units
    print(f"flash sale: {shoppers} checkouts in {elapsed:.1f}s")


# ---------------------------------------------------------------- the real sandbox gateway


def test_checkout_through_the_sandbox_gateway_confirms_declines_and_never_charges_twice(
    client: TestClient, admin: Caller, api_settings: Settings, engine: Engine, sandbox: Any
) -> None:
    sku = product(client, admin, units=5)
    headers = token_headers(api_settings)
    fill_cart(client, headers, sku, 1)
    declined_key = f"k-{uuid.uuid4().hex}"
    declined = do_checkout(client, headers, declined_key, token="tok_decline")
    assert declined.status_code == 402, declined.text
    assert level(engine, sku) == (5, 0)
    assert sandbox.get(declined_key).status.value == "declined"

    key = f"k-{uuid.uuid4().hex}"
    first = do_checkout(client, headers, key)
    assert first.status_code == 201, first.text
    again = do_checkout(client, headers, key)
    assert again.status_code == 200 and again.json()["order"]["id"] == first.json()["order"]["id"]
    payment = sandbox.get(key)
    assert payment.status.value == "authorized"
    assert payment.reference == first.json()["order"]["payment"]["reference"]
    assert payment.amount_cents == first.json()["order"]["total_cents"]
    assert level(engine, sku) == (4, 0)


def test_what_a_shopper_owns_is_cached_then_forgotten_once_an_order_is_paid(
    client: TestClient,
    admin: Caller,
    api_settings: Settings,
    engine: Engine,
    fake: FakeGateway,
    redis_client: redis.Redis,
) -> None:
    # The recommendations' filter: read through Redis, forgotten by the paying transaction.
    sku = product(client, admin, units=5)
    user_id = str(uuid.uuid4())
    headers = token_headers(api_settings, user_id)
    key = RedisOwnedSkus.key(user_id)

    assert orders_service.skus_bought(engine, redis_client, user_id) == set()
    assert redis_client.get(key) == "[]"
    ttl = redis_client.ttl(key)
    assert isinstance(ttl, int) and 0 < ttl <= OWNED_TTL_S

    fill_cart(client, headers, sku, 2)
    response = do_checkout(client, headers, f"k-{uuid.uuid4().hex}")
    assert response.status_code == 201, response.text

    assert redis_client.get(key) is None  # forgotten after the commit
    assert orders_service.skus_bought(engine, redis_client, user_id) == {sku}
    assert redis_client.get(key) is not None
