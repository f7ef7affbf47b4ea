"""HTTP routes of the wishlist: /v1/wishlist/items for the signed-in caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from serving.catalog.schemas import SKU_PATTERN
from serving.deps import ConnDep, CurrentUser, RedisDep, SettingsDep, WriteRateLimit
from serving.wishlist import service
from serving.wishlist.schemas import WishlistItemAdd, WishlistItemPublic

router = APIRouter(prefix="/v1/wishlist", tags=["wishlist"])


@router.get("/items")
def list_items(
    user: CurrentUser, conn: ConnDep, redis: RedisDep, settings: SettingsDep
) -> list[WishlistItemPublic]:
    return service.list_items(conn, redis, settings, user.user_id)


@router.post(
    "/items",
    status_code=status.HTTP_201_CREATED,
    dependencies=[WriteRateLimit],
    responses={200: {"description": "the item was already in the wishlist"}},
)
def add_item(
    body: WishlistItemAdd,
    user: CurrentUser,
    conn: ConnDep,
    redis: RedisDep,
    settings: SettingsDep,
    response: Response,
) -> WishlistItemPublic:
    """Add a product; adding it again answers 200 with the same item and records nothing."""
    item, created = service.add_item(conn, redis, settings, user.user_id, body.sku)
    if not created:
        response.status_code = status.HTTP_200_OK
    return item


@router.delete(
    "/items/{sku}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[WriteRateLimit]
)
def remove_item(
    sku: Annotated[str, Path(pattern=SKU_PATTERN)], user: CurrentUser, conn: ConnDep
) -> None:
    service.remove_item(conn, user.user_id, sku)
