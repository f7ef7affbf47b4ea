"""Request and response models of accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from serving.passwords import is_common
from serving.security import Role

Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
PASSWORD_MIN_LENGTH = 10


def _not_common(password: str) -> str:
    if is_common(password):
        raise ValueError("this password is one of the most common ones; choose another")
    return password


Password = Annotated[
    str,
    StringConstraints(min_length=PASSWORD_MIN_LENGTH, max_length=128),
    AfterValidator(_not_common),
]


class UserRegister(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Password
    display_name: str = Field("", max_length=100)
    country: Country | None = None


def _no_nulls(data: Any, fields: tuple[str, ...]) -> Any:
    """PATCH bodies may omit a field, but not null one that cannot be empty."""
    if isinstance(data, dict):
        nulled = [name for name in fields if name in data and data[name] is None]
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null; omit a field to leave it as is")
    return data


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _reject_nulls(cls, data: Any) -> Any:
        return _no_nulls(data, ("display_name",))

    display_name: str | None = Field(None, max_length=100)
    country: Country | None = None
    password: Password | None = None
    current_password: str | None = Field(
        None, max_length=128, description="needed to change password"
    )


class UserPublic(BaseModel):
    id: str
    email: str
    display_name: str
    role: Role
    country: str | None
    created_at: datetime


class RegistrationAccepted(BaseModel):
    """The same answer whether the address was free or taken, so registering never tells
    whether an account exists (the owner of a taken address is told by email, once
    notifications exist)."""

    email: str
    status: str = "accepted"
    message: str = "if this address can be registered, the account is ready: log in"


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=4096)


class AddressCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field("", max_length=50)
    full_name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field("", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: Country
    phone: str | None = Field(None, max_length=40)
    is_default: bool = False


class AddressUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _reject_nulls(cls, data: Any) -> Any:
        return _no_nulls(
            data,
            (
                "label",
                "full_name",
                "line1",
                "line2",
                "city",
                "postal_code",
                "country",
                "is_default",
            ),
        )

    label: str | None = Field(None, max_length=50)
    full_name: str | None = Field(None, min_length=1, max_length=200)
    line1: str | None = Field(None, min_length=1, max_length=200)
    line2: str | None = Field(None, max_length=200)
    city: str | None = Field(None, min_length=1, max_length=100)
    postal_code: str | None = Field(None, min_length=1, max_length=20)
    country: Country | None = None
    phone: str | None = Field(None, max_length=40)
    is_default: bool | None = None


class AddressPublic(AddressCreate):
    model_config = ConfigDict(extra="ignore")

    id: str
    created_at: datetime
