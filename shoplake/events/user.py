"""Accounts: users and their roles."""

from __future__ import annotations

from typing import Literal

from shoplake.events.base import EventData, register

Role = Literal["customer", "admin", "ops", "supplier"]


@register
class UserRegistered(EventData):
    domain = "user"
    fact = "UserRegistered"
    key_field = "user_id"

    user_id: str
    email: str
    role: Role
    country: str | None = None
