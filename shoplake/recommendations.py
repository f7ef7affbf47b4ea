"""The recommendation lists in Redis: the key space the models publish and serving reads.

Both sides need it and may not import each other, so it lives in the kernel (like the product
cache key in `shoplake.catalog`). A publication is a versioned key space `recs:<publication>:…`
written whole, then made current by one `SET recs:current <publication>`: a reader takes the
pointer once and reads every list of one request under it, so it never mixes two publications.
Superseded publications stay readable until the one after next is live (and every key has a
TTL), so a reader that took the pointer just before a switch still finds its lists.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

CURRENT_KEY = "recs:current"
PUBLICATIONS_KEY = "recs:publications"
GLOBAL_CATEGORY = "_all"


class ListKind(StrEnum):
    USER = "u"
    SIMILAR = "similar"
    BOUGHT_TOGETHER = "bought"
    POPULAR = "popular"


class Reason(StrEnum):
    """Why an item is in a list; `about` names the product or category it refers to."""

    FOR_YOU = "for_you"
    BECAUSE_YOU_VIEWED = "because_you_viewed"
    BECAUSE_YOU_BOUGHT = "because_you_bought"
    # The item itself is in the shopper's recent interest (viewed, wishlisted, carted, not
    # bought): the list brings it back rather than naming it as its own reason.
    YOU_LOOKED_AT = "you_looked_at"
    BOUGHT_WITH = "bought_with"
    VIEWED_WITH = "viewed_with"
    SIMILAR_TO = "similar_to"
    POPULAR_IN = "popular_in"
    POPULAR = "popular"


class ListedItem(BaseModel):
    """One entry of a published list (kept short: short keys, no whitespace)."""

    model_config = ConfigDict(frozen=True)

    sku: str
    score: float
    reason: Reason
    about: str | None = None
    about_name: str | None = Field(None, description="the product or category's display name")


class Publication(BaseModel):
    """What `recs:<publication>:meta` holds: where the lists came from."""

    publication: str
    model_name: str
    model_version: str | None = None
    run_id: str | None = None
    published_at: str
    users: int
    items: int
    categories: int


def list_key(publication: str, kind: ListKind, subject: str) -> str:
    """`recs:<publication>:<kind>:<subject>`: a user id, a SKU, or a category path."""
    return f"recs:{publication}:{kind.value}:{subject}"


def categories_key(publication: str) -> str:
    """A hash SKU → category path of the publication's catalog (the cold-start fallback)."""
    return f"recs:{publication}:categories"


def names_key(publication: str) -> str:
    """A hash SKU → product name, so that reasons can say "bought with <name>"."""
    return f"recs:{publication}:names"


def meta_key(publication: str) -> str:
    return f"recs:{publication}:meta"


def publication_pattern(publication: str) -> str:
    """A SCAN pattern for every key of one publication."""
    return f"recs:{publication}:*"


def recent_views_key(session_id: str) -> str:
    """The session's recently viewed SKUs, newest first, kept by the behaviour route."""
    return f"recent:{{{session_id}}}"


_ITEMS: TypeAdapter[list[ListedItem]] = TypeAdapter(list[ListedItem])


def encode_list(items: list[ListedItem]) -> str:
    return "[" + ",".join(item.model_dump_json(exclude_none=True) for item in items) + "]"


def decode_list(raw: str | bytes | None) -> list[ListedItem]:
    if raw is None:
        return []
    return _ITEMS.validate_json(raw)
