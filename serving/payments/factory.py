"""Pick the PaymentGateway named by `SHOPLAKE_PAYMENT_GATEWAY`."""

from __future__ import annotations

from serving.payments.gateway import PaymentGateway
from shoplake.config import Settings


def make_gateway(settings: Settings) -> PaymentGateway:
    if settings.payment_gateway == "stripe":
        from serving.payments.stripe_gateway import StripeGateway  # the SDK only when chosen

        return StripeGateway(settings)
    if settings.payment_gateway == "sandbox":
        from serving.payments.sandbox import SandboxGateway

        return SandboxGateway(settings)
    raise ValueError(f"unknown payment gateway {settings.payment_gateway!r}")
