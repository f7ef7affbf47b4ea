"""HTTP routes of recommendations: a list for the home, product or cart page, similar items and
items bought together with a product. Public: a token personalises the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Path, Query, Request

from serving.access import Public
from serving.deps import OptionalUser
from serving.recommendations import service
from serving.recommendations.schemas import Context, RecommendationsPublic
from serving.recommendations.service import MAX_LIMIT, Deps, MemoryBaseline
from shoplake.recommendations import ListKind


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.recommendations_memory = MemoryBaseline()
    yield


router = APIRouter(tags=["recommendations"], lifespan=lifespan, dependencies=[Public])

SessionHeader = Annotated[
    str | None,
    Header(alias="X-Session-Id", min_length=1, max_length=128, description="the client's session"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT} items")]
Sku = Annotated[str, Path(min_length=1, max_length=64)]


def _deps(request: Request) -> Deps:
    state = request.app.state
    return Deps(
        state.redis, state.settings, state.engine, state.behaviour, state.recommendations_memory
    )


@router.get("/v1/recommendations")
def recommendations(
    request: Request,
    user: OptionalUser,
    session_id: SessionHeader = None,
    context: Context = Context.HOME,
    sku: Annotated[
        list[str] | None,
        Query(max_length=20, description="the page's product (product), the cart's (cart)"),
    ] = None,
    limit: Limit = 10,
) -> RecommendationsPublic:
    """A list for the page, each item with its reason; quote `recommendation_id` in
    RecommendationClicked events so that clicks and purchases can be attributed."""
    skus = [s for s in (sku or []) if 1 <= len(s) <= 64]
    return service.recommend(
        _deps(request),
        context=context,
        skus=skus,
        limit=limit,
        user_id=user.user_id if user is not None else None,
        session_id=session_id,
    )


@router.get("/v1/products/{sku}/similar")
def similar(
    request: Request,
    sku: Sku,
    user: OptionalUser,
    session_id: SessionHeader = None,
    limit: Limit = 10,
) -> RecommendationsPublic:
    """Products viewed together with this one, or close to it in the model's taste space."""
    return service.product_list(
        _deps(request),
        ListKind.SIMILAR,
        sku,
        limit,
        user.user_id if user is not None else None,
        session_id,
    )


@router.get("/v1/products/{sku}/bought-together")
def bought_together(
    request: Request,
    sku: Sku,
    user: OptionalUser,
    session_id: SessionHeader = None,
    limit: Limit = 10,
) -> RecommendationsPublic:
    """Products shoppers bought in the same order as this one."""
    return service.product_list(
        _deps(request),
        ListKind.BOUGHT_TOGETHER,
        sku,
        limit,
        user.user_id if user is not None else None,
        session_id,
    )
