"""SQL of the payment ledger. Parameterised statements only."""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert

from serving.payments.domain import Payment
from serving.payments.gateway import PaymentStatus
from serving.payments.tables import payments
from serving.unit_of_work import SqlUnitOfWork


class PaymentStore(Protocol):
    def insert(self, payment: Payment) -> None:
        """Add the payment; a second one with the same idempotency key is ignored."""
        ...

    def of_order(self, order_id: str) -> Payment | None:
        """The order's payment (its first, should there ever be several)."""
        ...

    def set_status(self, payment_id: str, status: PaymentStatus) -> None: ...


def _payment(row: Any) -> Payment:
    return Payment(
        id=row.id,
        order_id=row.order_id,
        idempotency_key=row.idempotency_key,
        gateway=row.gateway,
        reference=row.reference,
        status=PaymentStatus(row.status),
        amount_cents=int(row.amount_cents),
        currency=row.currency,
    )


class SqlPaymentStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @classmethod
    def on(cls, uow: SqlUnitOfWork) -> SqlPaymentStore:
        return cls(uow.connection)

    def insert(self, payment: Payment) -> None:
        self.conn.execute(
            pg_insert(payments)
            .values(
                id=payment.id,
                order_id=payment.order_id,
                idempotency_key=payment.idempotency_key,
                gateway=payment.gateway,
                reference=payment.reference,
                status=payment.status.value,
                amount_cents=payment.amount_cents,
                currency=payment.currency,
            )
            .on_conflict_do_nothing()
        )

    def of_order(self, order_id: str) -> Payment | None:
        row = self.conn.execute(
            sa.select(payments)
            .where(payments.c.order_id == order_id)
            .order_by(payments.c.created_at)
            .limit(1)
        ).first()
        return None if row is None else _payment(row)

    def set_status(self, payment_id: str, status: PaymentStatus) -> None:
        self.conn.execute(
            payments.update()
            .where(payments.c.id == payment_id)
            .values(status=status.value, updated_at=sa.func.now())
        )
