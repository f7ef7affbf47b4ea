"""The payment gateway as a request dependency: the app's (tests inject one on app.state)."""

from __future__ import annotations

import importlib
import threading
from typing import Annotated, Any

from fastapi import Depends, Request

from serving.errors import ApiError, CommonError
from serving.payments.gateway import PaymentGateway
from shoplake.config import Settings

_lock = threading.Lock()


def gateway_of(state: Any, settings: Settings) -> PaymentGateway:
    """`state.payment_gateway`, made once by `serving.payments.factory.make_gateway`."""
    gateway: PaymentGateway | None = getattr(state, "payment_gateway", None)
    if gateway is not None:
        return gateway
    with _lock:
        gateway = getattr(state, "payment_gateway", None)
        if gateway is None:
            try:
                factory = importlib.import_module("serving.payments.factory")
            except ImportError as exc:
                raise ApiError(
                    503, CommonError.UNAVAILABLE, "no payment gateway is configured"
                ) from exc
            gateway = factory.make_gateway(settings)
            state.payment_gateway = gateway
    assert gateway is not None
    return gateway


def get_gateway(request: Request) -> PaymentGateway:
    return gateway_of(request.app.state, request.app.state.settings)


GatewayDep = Annotated[PaymentGateway, Depends(get_gateway)]
