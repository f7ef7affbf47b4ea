"""The sandbox payment gateway: a small HTTP service that behaves like a card processor.

It knows test tokens only (`tok_ok`, `tok_decline`, `tok_timeout`, `tok_flaky`), keeps its
payments in SQLite under `<state dir>/sandbox-gateway/` so they survive restarts, answers the
same payment for the same idempotency key, and refuses illegal state changes with 409. Anything
that is not a `tok_` token, or that holds a Luhn-valid run of 13-19 digits whatever its prefix
or separators, is refused without being stored or logged; any other token it did not issue is
stored and logged only as a fingerprint (`fp_` + 16 hex of its SHA-256): no card number ever
reaches its disk.

Run by `shoplake stack` as `uvicorn --factory sandbox.payment_gateway:create_app`.
Handlers are `async` and never await between reading and writing the database, so the event
loop serialises them: one idempotency key can never be charged twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import sqlite3
import string
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from shoplake.card_numbers import holds_card_number
from shoplake.config import get_settings

APP_VERSION = "1.0.0"
DB_FILE_NAME = "payments.sqlite3"
# tok_timeout hangs this long after recording the charge: far past any client timeout.
TIMEOUT_TOKEN_HANG_S = 30.0
# The tokens this sandbox issues: the only ones it stores and logs as they are.
ISSUED_TOKENS = frozenset({"tok_ok", "tok_decline", "tok_timeout", "tok_flaky"})

log = logging.getLogger("shoplake.sandbox_gateway")

SCHEMA = """
create table if not exists payments (
    reference text primary key,
    idempotency_key text not null unique,
    token text not null,
    status text not null,
    amount_cents integer not null,
    currency text not null,
    refunded_cents integer not null default 0,
    decline_reason text,
    created_at text not null default (datetime('now'))
);
create table if not exists refunds (
    reference text not null references payments (reference),
    idempotency_key text not null,
    amount_cents integer not null,
    primary key (reference, idempotency_key)
);
create table if not exists flaky_attempts (idempotency_key text primary key);
"""


class AuthorizeRequest(BaseModel):
    idempotency_key: str = Field(min_length=1, max_length=200)
    token: str = Field(min_length=1, max_length=100)
    amount_cents: int = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)


class TransitionRequest(BaseModel):
    idempotency_key: str = Field(min_length=1, max_length=200)


class RefundRequest(TransitionRequest):
    amount_cents: int | None = Field(None, gt=0)


def new_reference() -> str:
    """`pay_` and 24 random letters: no digit runs, so nothing in the store looks like a PAN."""
    return "pay_" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(24))


def stored_token(token: str) -> str:
    """The token as the sandbox may keep it: an issued test token as is, any other as a
    fingerprint, so whatever a client sends never lands on disk."""
    if token in ISSUED_TOKENS:
        return token
    return "fp_" + hashlib.sha256(token.encode()).hexdigest()[:16]


def database_path() -> Path:
    return get_settings().state_dir / "sandbox-gateway" / DB_FILE_NAME


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("pragma journal_mode=wal")
    conn.execute("pragma synchronous=full")
    conn.executescript(SCHEMA)
    return conn


def _public(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "reference": row["reference"],
        "idempotency_key": row["idempotency_key"],
        "status": row["status"],
        "amount_cents": row["amount_cents"],
        "currency": row["currency"],
        "refunded_cents": row["refunded_cents"],
        "decline_reason": row["decline_reason"],
    }


def _conflict(code: str, message: str) -> HTTPException:
    return HTTPException(409, detail={"code": code, "message": message})


def create_app(db_path: Path | None = None) -> FastAPI:
    path = db_path or database_path()
    state: dict[str, sqlite3.Connection] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        state["db"] = _connect(path)
        log.info("sandbox gateway %s on %s", APP_VERSION, path)
        yield
        state.pop("db").close()

    app = FastAPI(title="shoplake sandbox payment gateway", version=APP_VERSION, lifespan=lifespan)

    def db() -> sqlite3.Connection:
        return state["db"]

    def by_key(key: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = (
            db().execute("select * from payments where idempotency_key = ?", (key,)).fetchone()
        )
        return row

    def by_reference(reference: str) -> sqlite3.Row:
        row: sqlite3.Row | None = (
            db().execute("select * from payments where reference = ?", (reference,)).fetchone()
        )
        if row is None:
            raise HTTPException(404, detail={"code": "NOT_FOUND", "message": "no such payment"})
        return row

    def set_status(reference: str, status: str, refunded_cents: int | None = None) -> None:
        db().execute(
            "update payments set status = ?, refunded_cents = coalesce(?, refunded_cents) "
            "where reference = ?",
            (status, refunded_cents, reference),
        )

    @app.get("/health")
    async def health() -> dict[str, str]:
        db().execute("select 1").fetchone()
        return {"status": "ok", "version": APP_VERSION}

    @app.post("/v1/payments/authorize")
    async def authorize(body: AuthorizeRequest) -> dict[str, Any]:
        if not body.token.startswith("tok_") or holds_card_number(body.token):
            # Never echo, log or store what may be a card number.
            raise HTTPException(
                422, detail={"code": "INVALID_TOKEN", "message": "only tok_ tokens are accepted"}
            )
        token = stored_token(body.token)
        existing = by_key(body.idempotency_key)
        if existing is not None:
            if (existing["amount_cents"], existing["currency"], existing["token"]) != (
                body.amount_cents,
                body.currency.upper(),
                token,
            ):
                raise _conflict(
                    "IDEMPOTENCY_KEY_REUSED", "this key was used for a different payment"
                )
            return _public(existing)
        if body.token == "tok_flaky":
            seen = db().execute(
                "insert or ignore into flaky_attempts (idempotency_key) values (?)",
                (body.idempotency_key,),
            )
            if seen.rowcount == 1:
                log.info(
                    "authorize key=%s token=tok_flaky: 503 on the first attempt",
                    body.idempotency_key,
                )
                raise HTTPException(
                    503, detail={"code": "TEMPORARILY_UNAVAILABLE", "message": "try again"}
                )
        if body.token == "tok_decline":
            status, reason = "declined", "card_declined"
        elif body.token in {"tok_ok", "tok_timeout", "tok_flaky"}:
            status, reason = "authorized", None
        else:
            status, reason = "declined", "unknown_test_token"
        reference = new_reference()
        db().execute(
            "insert into payments (reference, idempotency_key, token, status, amount_cents, "
            "currency, decline_reason) values (?, ?, ?, ?, ?, ?, ?)",
            (
                reference,
                body.idempotency_key,
                token,
                status,
                body.amount_cents,
                body.currency.upper(),
                reason,
            ),
        )
        log.info(
            "authorize key=%s token=%s -> %s %s", body.idempotency_key, token, reference, status
        )
        row = by_reference(reference)
        if body.token == "tok_timeout":
            await asyncio.sleep(TIMEOUT_TOKEN_HANG_S)  # recorded, but the client gives up first
        return _public(row)

    @app.get("/v1/payments")
    async def get_payment(idempotency_key: str) -> dict[str, Any]:
        row = by_key(idempotency_key)
        if row is None:
            raise HTTPException(404, detail={"code": "NOT_FOUND", "message": "no such payment"})
        return _public(row)

    @app.post("/v1/payments/{reference}/capture")
    async def capture(reference: str, _body: TransitionRequest) -> dict[str, Any]:
        row = by_reference(reference)
        if row["status"] != "captured":
            if row["status"] != "authorized":
                raise _conflict("ILLEGAL_TRANSITION", f"cannot capture a {row['status']} payment")
            set_status(reference, "captured")
        log.info("capture %s", reference)
        return _public(by_reference(reference))

    @app.post("/v1/payments/{reference}/void")
    async def void(reference: str, _body: TransitionRequest) -> dict[str, Any]:
        row = by_reference(reference)
        if row["status"] != "voided":
            if row["status"] != "authorized":
                raise _conflict("ILLEGAL_TRANSITION", f"cannot void a {row['status']} payment")
            set_status(reference, "voided")
        log.info("void %s", reference)
        return _public(by_reference(reference))

    @app.post("/v1/payments/{reference}/refund")
    async def refund(reference: str, body: RefundRequest) -> dict[str, Any]:
        row = by_reference(reference)
        done = (
            db()
            .execute(
                "select 1 from refunds where reference = ? and idempotency_key = ?",
                (reference, body.idempotency_key),
            )
            .fetchone()
        )
        if done is not None:  # the same refund asked again: nothing more is refunded
            return _public(row)
        if row["status"] not in {"captured", "refunded"}:
            raise _conflict("ILLEGAL_TRANSITION", f"cannot refund a {row['status']} payment")
        left = row["amount_cents"] - row["refunded_cents"]
        amount = left if body.amount_cents is None else body.amount_cents
        if amount <= 0 or amount > left:
            raise _conflict("REFUND_EXCEEDS_CAPTURE", f"only {left} cents are left to refund")
        db().execute("begin immediate")
        try:
            db().execute(
                "insert into refunds (reference, idempotency_key, amount_cents) values (?, ?, ?)",
                (reference, body.idempotency_key, amount),
            )
            set_status(reference, "refunded", row["refunded_cents"] + amount)
            db().execute("commit")
        except BaseException:
            db().execute("rollback")
            raise
        log.info("refund %s %d cents", reference, amount)
        return _public(by_reference(reference))

    return app
