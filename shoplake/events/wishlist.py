"""Wishlists: the lake later turns their price drops and restocks into notifications."""

from __future__ import annotations

from shoplake.events.base import EventData, register


class _WishlistEvent(EventData):
    domain = "wishlist"
    key_field = "user_id"

    user_id: str
    sku: str


@register
class WishlistItemAdded(_WishlistEvent):
    fact = "WishlistItemAdded"


@register
class WishlistItemRemoved(_WishlistEvent):
    fact = "WishlistItemRemoved"
