"""HTTP routes of product search: full-text search with facets, and autocomplete. Public."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Query, Request

from serving.access import Public
from serving.behaviour_publisher import BehaviourPublisher
from serving.deps import OptionalUser
from serving.errors import ApiError, CommonError
from serving.search import service
from serving.search.schemas import SearchPage, SearchSort, Suggestions
from serving.search.service import SearchBackend
from shoplake.config import Settings
from shoplake.search.query import SearchParams

log = logging.getLogger(__name__)

MAX_QUERY = 200
MAX_FILTER_VALUES = 20
ATTR_PREFIX = "attr."


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    backend = SearchBackend.from_settings(settings)
    try:
        backend.index.ensure()  # a fresh deployment answers empty results, not errors
    except Exception as exc:  # Elasticsearch away at start: search answers 503 until it is back
        log.warning("search: could not ensure the index %s: %s", settings.search_alias, exc)
    app.state.search = backend
    try:
        yield
    finally:
        backend.close()


router = APIRouter(prefix="/v1/search", tags=["search"], lifespan=lifespan, dependencies=[Public])

SessionHeader = Annotated[
    str | None,
    Header(alias="X-Session-Id", min_length=1, max_length=128, description="the client's session"),
]


def _attribute_filters(request: Request) -> dict[str, tuple[str, ...]]:
    names: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if not key.startswith(ATTR_PREFIX):
            continue
        if not 1 <= len(value) <= 100:
            raise ApiError(422, CommonError.VALIDATION_FAILED, f"{key} must be 1 to 100 characters")
        names.setdefault(key.removeprefix(ATTR_PREFIX), []).append(value)
    service.check_attributes(list(names))
    if any(len(values) > MAX_FILTER_VALUES for values in names.values()):
        raise ApiError(422, CommonError.VALIDATION_FAILED, "too many values for one attribute")
    return {name: tuple(values) for name, values in names.items()}


@router.get("")
def search_products(
    request: Request,
    user: OptionalUser,
    session_id: SessionHeader = None,
    q: Annotated[str, Query(max_length=MAX_QUERY, description="what the shopper typed")] = "",
    category: Annotated[
        str | None, Query(pattern=r"^[a-z0-9-]+(/[a-z0-9-]+)*$", max_length=200)
    ] = None,
    brand: Annotated[
        list[str] | None, Query(max_length=MAX_FILTER_VALUES, description="repeatable")
    ] = None,
    price_min: Annotated[int | None, Query(ge=0, le=2**53, description="cents")] = None,
    price_max: Annotated[int | None, Query(ge=0, le=2**53, description="cents")] = None,
    in_stock: bool | None = None,
    sort: SearchSort = SearchSort.RELEVANCE,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchPage:
    """Full-text search (typos tolerated, synonyms expanded) with filters and facet counts;
    filter on a facetable attribute with `attr.<name>=<value>` (repeatable)."""
    brands = tuple(brand or ())
    if any(not 1 <= len(b) <= 100 for b in brands):
        raise ApiError(422, CommonError.VALIDATION_FAILED, "brand must be 1 to 100 characters")
    if price_min is not None and price_max is not None and price_min > price_max:
        raise ApiError(422, CommonError.VALIDATION_FAILED, "price_min is above price_max")
    params = SearchParams(
        q=q,
        category=category,
        brands=brands,
        price_min=price_min,
        price_max=price_max,
        in_stock=in_stock,
        attributes=_attribute_filters(request),
        sort=sort,
        page=page,
        size=size,
    )
    publisher: BehaviourPublisher = request.app.state.behaviour
    user_id = user.user_id if user is not None else None
    return service.search(
        request.app.state.search,
        publisher,
        params,
        session_id=session_id or (f"user:{user_id}" if user_id else "anonymous"),
        user_id=user_id,
    )


@router.get("/suggest")
def suggest(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY, description="a prefix")],
) -> Suggestions:
    """Autocomplete: up to 8 completions of what the shopper has typed so far."""
    return service.suggest(request.app.state.search, q)
