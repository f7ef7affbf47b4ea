"""Request and response models of notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shoplake.notifications.contract import MANDATORY, Kind

# E.164: a plus, the country code, the subscriber number; 8 to 15 digits in all.
SmsNumber = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]


class ChannelSwitches(BaseModel):
    email: bool
    sms: bool
    push: bool
    in_app: bool


class ChannelSwitchesUpdate(BaseModel):
    """Only the channels sent change."""

    model_config = ConfigDict(extra="forbid")

    email: bool | None = None
    sms: bool | None = None
    push: bool | None = None
    in_app: bool | None = None


class NotificationSettings(BaseModel):
    kinds: dict[Kind, ChannelSwitches] = Field(
        description="every kind a user may switch, with its channels on or off"
    )
    mandatory: dict[Kind, list[str]] = Field(
        description="notices that always go out, on these channels (security): not switchable"
    )
    sms_number: str | None = Field(description="where SMS go (E.164); none: no SMS")


class NotificationSettingsUpdate(BaseModel):
    """PATCH: the kinds and channels sent change; `sms_number: null` removes the number."""

    model_config = ConfigDict(extra="forbid")

    kinds: dict[Kind, ChannelSwitchesUpdate] = Field(default_factory=dict)
    sms_number: SmsNumber | None = None

    @model_validator(mode="after")
    def _only_switchable(self) -> NotificationSettingsUpdate:
        fixed = sorted(kind.value for kind in self.kinds if kind in MANDATORY)
        if fixed:
            raise ValueError(f"these notices cannot be switched off or on: {', '.join(fixed)}")
        return self


class FeedItem(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read: bool
    read_at: datetime | None


class FeedPage(BaseModel):
    items: list[FeedItem]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")
    unread_count: int = Field(description="unread items in the whole feed")


class MarkedRead(BaseModel):
    marked: int = Field(description="items that were unread")
