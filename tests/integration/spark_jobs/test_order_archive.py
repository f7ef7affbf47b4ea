"""The order archive on the real stack: final orders older than the cut-off move to Delta with
everything that hangs off them; a run killed with SIGKILL between the copy and the delete, then
rerun, leaves every order exactly once across Postgres and the archive; a copy that no longer
matches Postgres is discarded, never deleted from; and the API answers archived orders in the
same shape (history, payment, tracking, returns), one cursor paging across both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest
import sqlalchemy as sa
from deltalake import DeltaTable
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.app import create_app
from serving.orders.tables import orders
from serving.security import Role
from shoplake.archive.batches import archive_batches
from shoplake.archive.contract import APP_ID, ARCHIVED_TABLES
from shoplake.config import REPO_ROOT, Settings
from shoplake.db import make_engine
from shoplake.events.archive import OrdersArchived
from shoplake.lake import ARCHIVE_TABLES
from spark_jobs.order_archive import archive_orders, fetch_rows
from tests.support.api import generous_limits
from tests.support.callers import Caller, register_caller
from tests.support.factories import outbox_events
from tests.support.fakes import FakeGateway, injected_gateway
from tests.support.fulfilment import delivered_order
from tests.support.shop_api import do_checkout, fill_cart, product, token_headers

OLD_DAYS = 400
CUTOFF_DAYS = 365
KILL_BETWEEN_COPY_AND_DELETE = """
import os, signal, sys
from shoplake.config import get_settings
from spark_jobs.order_archive import archive_orders
archive_orders(
    get_settings(),
    older_than_days=float(sys.argv[1]),
    after_copy=lambda version: os.kill(os.getpid(), signal.SIGKILL),
)
"""


@pytest.fixture(scope="module")
def api_settings(settings: Settings) -> Settings:
    return generous_limits(settings)


@pytest.fixture(scope="module")
def client(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture
def lake(tmp_path: Path) -> str:
    return str(tmp_path / "lake")


@pytest.fixture
def archive_api(api_settings: Settings, lake: str) -> Iterator[TestClient]:
    """The API reading this test's archive, with no staleness allowed."""
    settings = api_settings.model_copy(update={"lake_root": lake, "archive_read_refresh_s": 0})
    with TestClient(create_app(generous_limits(settings))) as client:
        yield client


@pytest.fixture(scope="module")
def ops(client: TestClient, engine: Engine) -> Caller:
    return register_caller(client, engine, Role.OPS)


@pytest.fixture(scope="module")
def admin(client: TestClient, engine: Engine) -> Caller:
    return register_caller(client, engine, Role.ADMIN)


@pytest.fixture
def fake(client: TestClient) -> Iterator[FakeGateway]:
    with injected_gateway(client, FakeGateway()) as gateway:
        yield gateway


def _cancelled_order(
    client: TestClient, admin: Caller, headers: dict[str, str], price_cents: int = 1500
) -> str:
    sku = product(client, admin, units=5, price_cents=price_cents)
    fill_cart(client, headers, sku, 1)
    order_id: str = do_checkout(client, headers, f"k-{uuid.uuid4().hex}").json()["order"]["id"]
    assert client.post(f"/v1/orders/{order_id}/cancel", headers=headers).status_code == 200
    return order_id


def _age(engine: Engine, order_ids: list[str], days: int) -> None:
    """Make the orders as old as `days` (created and last changed then)."""
    with engine.begin() as conn:
        for n, order_id in enumerate(order_ids):
            conn.execute(
                orders.update()
                .where(orders.c.id == order_id)
                .values(
                    created_at=sa.func.now() - sa.text(f"interval '{days} days {n} minutes'"),
                    updated_at=sa.func.now() - sa.text(f"interval '{days} days'"),
                )
            )


def _in_postgres(engine: Engine, order_ids: list[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: len(fetch_rows(conn, table, order_ids, dict.fromkeys(order_ids, "m")))
            for table in ARCHIVED_TABLES
        }


def _in_archive(lake: str, order_ids: list[str]) -> dict[str, int]:
    counts = {}
    for table in ARCHIVED_TABLES:
        path = ARCHIVE_TABLES[table.name].path(lake)
        if not DeltaTable.is_deltatable(path):
            counts[table.name] = 0
            continue
        column = "id" if table.name == "orders" else "order_id"
        data = (
            DeltaTable(path).to_pyarrow_dataset().to_table(filter=pc.field(column).isin(order_ids))
        )
        counts[table.name] = data.num_rows
    return counts


def _detail(client: TestClient, headers: dict[str, str], order_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/orders/{order_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_run_killed_between_copy_and_delete_then_rerun_keeps_every_order_exactly_once(
    client: TestClient,
    archive_api: TestClient,
    admin: Caller,
    ops: Caller,
    api_settings: Settings,
    engine: Engine,
    lake: str,
    fake: FakeGateway,
) -> None:
    delivered = delivered_order(client, admin, ops, engine, api_settings)
    buyer = token_headers(api_settings)
    cancelled = [_cancelled_order(client, admin, buyer) for _ in range(2)]
    recent = _cancelled_order(client, admin, buyer)  # too young to be archived
    old = [delivered.order_id, *cancelled]
    _age(engine, old, OLD_DAYS)
    before = {order_id: _detail(client, buyer, order_id) for order_id in cancelled}
    tracking_before = client.get(
        f"/v1/orders/{delivered.order_id}/tracking", headers=delivered.headers
    ).json()
    rows_before = _in_postgres(engine, old)
    assert rows_before["shipments"] == 2 and rows_before["shipment_scans"] == 6

    killed = subprocess.run(
        [sys.executable, "-c", KILL_BETWEEN_COPY_AND_DELETE, str(CUTOFF_DAYS)],
        cwd=REPO_ROOT,
        env={**os.environ, "SHOPLAKE_LAKE_ROOT": lake},
        capture_output=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    # Copied, not deleted: the orders are in both, and the batch is still open.
    assert _in_postgres(engine, old) == rows_before
    assert _in_archive(lake, old) == rows_before
    with engine.connect() as conn:
        open_batch = conn.execute(
            sa.select(archive_batches).where(archive_batches.c.state == "copying")
        ).one()
    assert set(old) <= set(open_batch.order_ids) and recent not in open_batch.order_ids
    orders_path = ARCHIVE_TABLES["orders"].path(lake)
    assert DeltaTable(orders_path).transaction_version(APP_ID) == open_batch.version
    # Meanwhile the API answers from Postgres, each order once.
    listed = archive_api.get("/v1/orders", headers=buyer).json()["items"]
    assert [o["id"] for o in listed].count(cancelled[0]) == 1

    rerun = archive_orders(api_settings, older_than_days=CUTOFF_DAYS, lake_root=lake)

    first = rerun.batches[0]
    assert (first.version, first.state, first.resumed) == (open_batch.version, "done", True)
    assert first.written_tables == 0  # every table's copy had committed before the kill
    assert _in_postgres(engine, old) == dict.fromkeys(rows_before, 0)
    assert _in_archive(lake, old) == rows_before
    assert _in_postgres(engine, [recent])["orders"] == 1
    assert _in_archive(lake, [recent])["orders"] == 0
    (event,) = outbox_events(engine, key=str(open_batch.version))
    assert isinstance(event, OrdersArchived) and event.order_count >= 3

    # The history is whole, in the same shape.
    for order_id in cancelled:
        after = _detail(archive_api, buyer, order_id)
        assert after.pop("archived") is True and before[order_id].pop("archived") is False
        assert after == before[order_id]
    tracking = archive_api.get(
        f"/v1/orders/{delivered.order_id}/tracking", headers=delivered.headers
    ).json()
    assert tracking.pop("archived") is True and tracking_before.pop("archived") is False
    assert tracking == tracking_before
    lookup = archive_api.get(f"/v1/admin/orders/{cancelled[0]}", headers=admin.headers)
    assert lookup.status_code == 200 and lookup.json()["archived"] is True
    stranger = token_headers(api_settings)
    assert archive_api.get(f"/v1/orders/{cancelled[0]}", headers=stranger).status_code == 404

    # One cursor pages through Postgres and the archive, newest first, each order once.
    seen, cursor = [], None
    while True:
        page = archive_api.get(
            "/v1/orders",
            params={"limit": 1, **({"cursor": cursor} if cursor else {})},
            headers=buyer,
        ).json()
        seen += [(o["id"], o["archived"]) for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [(recent, False), (cancelled[0], True), (cancelled[1], True)]


def test_a_copy_that_no_longer_matches_postgres_is_discarded_and_the_orders_stay(
    client: TestClient,
    admin: Caller,
    api_settings: Settings,
    engine: Engine,
    lake: str,
    fake: FakeGateway,
) -> None:
    buyer = token_headers(api_settings)
    order_ids = [_cancelled_order(client, admin, buyer) for _ in range(2)]
    _age(engine, order_ids, OLD_DAYS)

    def change_one(_version: int) -> None:  # an order changes after it was copied
        with engine.begin() as conn:
            conn.execute(
                orders.update()
                .where(orders.c.id == order_ids[0])
                .values(updated_at=orders.c.updated_at + sa.text("interval '1 second'"))
            )

    run = archive_orders(
        api_settings, older_than_days=CUTOFF_DAYS, lake_root=lake, after_copy=change_one
    )

    assert [b.state for b in run.batches] == ["discarded"]
    assert _in_postgres(engine, order_ids)["orders"] == 2
    assert _in_archive(lake, order_ids)["orders"] == 0
    again = archive_orders(api_settings, older_than_days=CUTOFF_DAYS, lake_root=lake)
    assert [b.state for b in again.batches] == ["done"]
    assert again.batches[0].version > run.batches[0].version
    assert _in_postgres(engine, order_ids)["orders"] == 0
    assert _in_archive(lake, order_ids)["orders"] == 2
