"""The payment ledger's entry, as every domain sees it: gateway, reference, status, amount.

Never the token nor card data. The derived keys of the operations on a payment are fixed
here, so that a retry of a capture, void or refund reuses its key and never acts twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from serving.payments.gateway import PaymentStatus


class Operation(StrEnum):
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


def derived_key(idempotency_key: str, operation: Operation, part: str | None = None) -> str:
    """`<order key>:capture|void|refund`: one gateway key per operation on one payment;
    `<order key>:refund:<part>` for each partial refund (a return's, named by the return)."""
    key = f"{idempotency_key}:{operation.value}"
    return key if part is None else f"{key}:{part}"


@dataclass(frozen=True)
class Payment:
    id: str
    order_id: str
    idempotency_key: str
    gateway: str
    reference: str
    status: PaymentStatus
    amount_cents: int
    currency: str

    def with_status(self, status: PaymentStatus) -> Payment:
        return replace(self, status=status)
