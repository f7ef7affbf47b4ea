"""The checkout request. Only a payment token is accepted, never card data, and it is not stored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from serving.accounts.schemas import Country
from serving.orders.schemas import OrderPublic
from serving.payments.card_numbers import holds_card_number

IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_\-:.]{8,128}$"


class ShippingAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field("", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: Country
    phone: str | None = Field(None, max_length=40)


class CheckoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_token: str = Field(min_length=1, max_length=200, pattern=r"^tok_[A-Za-z0-9_]+$")
    shipping_address: ShippingAddress

    @field_validator("payment_token")
    @classmethod
    def _not_a_card_number(cls, token: str) -> str:
        # The pattern alone lets `tok_4242424242424242` through: a card number in disguise.
        if holds_card_number(token):
            raise ValueError("the payment token holds a card number; send a gateway token only")
        return token


class CheckoutPublic(BaseModel):
    order: OrderPublic
    replayed: bool = Field(description="true when this Idempotency-Key was seen before")
