"""The payment gateway as a request dependency: the app's one gateway per process (tests
inject theirs on `app.state.payment_gateway`)."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import Depends, Request

from serving.payments.factory import make_gateway
from serving.payments.gateway import PaymentGateway
from shoplake.config import Settings

_lock = threading.Lock()


def gateway_of(state: Any, settings: Settings) -> PaymentGateway:
    """`state.payment_gateway`, made once by `make_gateway` (one breaker per process)."""
    gateway: PaymentGateway | None = getattr(state, "payment_gateway", None)
    if gateway is not None:
        return gateway
    with _lock:
        gateway = getattr(state, "payment_gateway", None)
        if gateway is None:
            gateway = make_gateway(settings)
            state.payment_gateway = gateway
    return gateway


def get_gateway(request: Request) -> PaymentGateway:
    return gateway_of(request.app.state, request.app.state.settings)


GatewayDep = Annotated[PaymentGateway, Depends(get_gateway)]
