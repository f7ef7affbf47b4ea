"""Limits on free-form input (product attributes, search filters): the size and nesting that
`free_form_max_bytes` and `free_form_max_depth` allow.

With these and every other field bounded by its schema, the largest event a valid request can
cause stays far below the broker's record limit (`outbox_max_event_bytes`, itself below
Kafka's `message.max.bytes`), so no request can make the outbox relay's life hard; a test
checks that bound against the running broker.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, StringConstraints

from shoplake.config import get_settings


def depth(value: Any) -> int:
    """How deep a JSON value nests: a scalar is 0, {} or [] is 1, {"a": []} is 2."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
            deepest = max(deepest, level + 1)
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
            deepest = max(deepest, level + 1)
    return deepest


def check_free_form(value: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    if depth(value) > settings.free_form_max_depth:
        raise ValueError(f"nested deeper than {settings.free_form_max_depth} levels")
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > settings.free_form_max_bytes:
        raise ValueError(f"{size} bytes as JSON, more than {settings.free_form_max_bytes}")
    return value


# A free-form JSON object of bounded size and depth.
FreeForm = Annotated[dict[str, Any], AfterValidator(check_free_form)]


def check_web_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        raise ValueError("only http:// and https:// URLs are accepted")
    return url


# An http(s) URL: no javascript:, data:, file: or scheme-less values reach a storefront.
WebUrl = Annotated[str, StringConstraints(max_length=1000), AfterValidator(check_web_url)]
