"""No card number is ever stored or logged: not in any table, not in any service log."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from serving.payments.card_numbers import card_numbers_in, luhn_valid
from serving.security import Role, issue_token
from shoplake.config import Settings
from shoplake.db import make_engine

PAN = "4242424242424242"  # a test card number: the kind of thing a careless client might send


def test_luhn() -> None:
    assert luhn_valid(PAN) and luhn_valid("4111111111111111")
    assert not luhn_valid("4242424242424241")


def test_a_card_number_sent_as_token_is_refused_and_left_nowhere(
    client: TestClient, api_settings: Settings
) -> None:
    token, _ = issue_token(api_settings, str(uuid.uuid4()), Role.CUSTOMER, "access")
    address = {
        "full_name": "Ada",
        "line1": "1 Lake St",
        "city": "Oxford",
        "postal_code": "OX1",
        "country": "GB",
    }
    response = client.post(
        "/v1/checkout",
        json={"payment_token": PAN, "shipping_address": address},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 422
    assert PAN not in response.text

    engine = make_engine(api_settings, pool_size=1)
    found: list[str] = []
    suspicious: list[str] = []
    with engine.connect() as conn:
        tables = (
            conn.execute(sa.text("select tablename from pg_tables where schemaname = 'public'"))
            .scalars()
            .all()
        )
        for table in tables:
            rows = (
                conn.execute(
                    sa.text(f'select t::text from "{table}" t')  # names from the catalog, not input
                )
                .scalars()
                .all()
            )
            found.extend(f"{table}: {row[:80]}" for row in rows if PAN in row)
            if table in {"payments", "orders", "checkout_requests"}:
                suspicious.extend(f"{table}: {run}" for row in rows for run in card_numbers_in(row))
    engine.dispose()
    assert not found, found
    assert not suspicious, suspicious

    logs = Path(api_settings.state_dir / "logs")
    leaked = [log.name for log in logs.glob("*.log") if PAN in log.read_text(errors="replace")]
    assert not leaked, leaked
