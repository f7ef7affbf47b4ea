"""SQL of the payment ledger. Parameterised statements only."""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert

from serving.payments.domain import Payment
from serving.payments.gateway import PaymentStatus
from serving.payments.tables import payment_refunds, payments
from serving.unit_of_work import SqlUnitOfWork


class PaymentStore(Protocol):
    def insert(self, payment: Payment) -> None:
        """Add the payment; a second one with the same idempotency key is ignored."""
        ...

    def of_order(self, order_id: str) -> Payment | None:
        """The order's payment (its first, should there ever be several)."""
        ...

    def set_status(self, payment_id: str, status: PaymentStatus) -> None: ...

    def add_refund(
        self, refund_id: str, payment: Payment, idempotency_key: str, amount_cents: int
    ) -> None:
        """Record a refund the gateway made under `idempotency_key` (once per key)."""
        ...

    def refund_under(self, idempotency_key: str) -> int | None:
        """The amount refunded under this key, or None if no refund used it."""
        ...

    def refunded_cents(self, payment_id: str) -> int:
        """What was refunded of the payment so far."""
        ...


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

    def add_refund(
        self, refund_id: str, payment: Payment, idempotency_key: str, amount_cents: int
    ) -> None:
        self.conn.execute(
            pg_insert(payment_refunds)
            .values(
                id=refund_id,
                payment_id=payment.id,
                order_id=payment.order_id,
                idempotency_key=idempotency_key,
                amount_cents=amount_cents,
            )
            .on_conflict_do_nothing()
        )

    def refund_under(self, idempotency_key: str) -> int | None:
        amount = self.conn.execute(
            sa.select(payment_refunds.c.amount_cents).where(
                payment_refunds.c.idempotency_key == idempotency_key
            )
        ).scalar()
        return None if amount is None else int(amount)

    def refunded_cents(self, payment_id: str) -> int:
        total = self.conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(payment_refunds.c.amount_cents), 0)).where(
                payment_refunds.c.payment_id == payment_id
            )
        ).scalar()
        return int(total or 0)
