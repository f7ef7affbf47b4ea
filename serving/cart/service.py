"""Rules of carts (being written)."""

from __future__ import annotations

import redis
from sqlalchemy import Connection

from shoplake.config import Settings


def merge_anonymous(
    conn: Connection, client: redis.Redis, settings: Settings, cart_token: str, user_id: str
) -> None:
    """Merge the anonymous cart named by cart_token into the user's cart."""
    raise NotImplementedError
