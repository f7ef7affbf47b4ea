"""One way to page through a list: opaque keyset cursors, bound to the query that made them.

A page answers `items` and `next_cursor` (null on the last page); the client sends it back as
`cursor` for the next one. The cursor is base64url(JSON) of the list it belongs to, a
fingerprint of the sort and filters, and the last row's key: the next page starts strictly after
that key, so pages never overlap or skip rows however deep they go and however many rows share
a sort value (every key ends with a unique column). A cursor made for another list, sort or
filter set is refused as a 422, never silently applied to the wrong query.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from serving.errors import ApiError, CommonError

CURSOR_VERSION = 1
KeyValue = str | int


class InvalidCursor(ValueError):
    """The cursor was not made by this API for this list, sort and filters."""


def fingerprint(query: Mapping[str, object]) -> str:
    """A short digest of what defines the list besides its position (sort, filters)."""
    canonical = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(listing: str, query_fingerprint: str, key: Mapping[str, KeyValue]) -> str:
    payload = {"v": CURSOR_VERSION, "l": listing, "f": query_fingerprint, "k": dict(key)}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, listing: str, query_fingerprint: str) -> dict[str, Any]:
    """The key the cursor carries; InvalidCursor when it is malformed or made for another
    query. The caller checks the key's fields (their types are the caller's to know)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload: Any = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("the cursor is not one this API made") from exc
    if not isinstance(payload, dict) or payload.get("v") != CURSOR_VERSION:
        raise InvalidCursor("the cursor is not one this API made")
    if payload.get("l") != listing or payload.get("f") != query_fingerprint:
        raise InvalidCursor("the cursor was made for another list, sort or filters")
    key = payload.get("k")
    if not isinstance(key, dict):
        raise InvalidCursor("the cursor carries no key")
    return key


def invalid_cursor(exc: InvalidCursor) -> ApiError:
    """The answer to a cursor this API did not make for this query."""
    return ApiError(422, CommonError.INVALID_CURSOR, str(exc), details={"parameter": "cursor"})
