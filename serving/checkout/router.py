"""POST /v1/checkout: HTTP only; the saga is in service.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from serving.checkout import service
from serving.checkout.schemas import IDEMPOTENCY_KEY_PATTERN, CheckoutPublic, CheckoutRequest
from serving.deps import CheckoutRateLimit, CurrentUser, UnitOfWorkDep
from serving.errors import ERROR_RESPONSES

router = APIRouter(prefix="/v1", tags=["checkout"])


@router.post(
    "/checkout",
    status_code=201,
    dependencies=[CheckoutRateLimit],
    responses={
        200: {"model": CheckoutPublic, "description": "the same key again: the same order"},
        202: {"model": CheckoutPublic, "description": "the same key while payment is running"},
        402: ERROR_RESPONSES[409] | {"description": "the payment was declined"},
    },
)
def checkout(
    body: CheckoutRequest,
    user: CurrentUser,
    uow: UnitOfWorkDep,
    response: Response,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description="one per checkout attempt (8-128 of A-Z a-z 0-9 _ - : .)",
        ),
    ],
) -> CheckoutPublic:
    """Place the cart as an order and pay for it; the same key never charges twice."""
    outcome = service.checkout(uow, user, idempotency_key, body)
    response.status_code = outcome.status_code
    return outcome.body
