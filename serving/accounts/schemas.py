"""Request and response models of accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from serving.security import Role

Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Password = Annotated[str, StringConstraints(min_length=10, max_length=128)]


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
