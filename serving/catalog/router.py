"""HTTP routes of the catalog: public product reads and categories, admin product writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status

from serving.access import Public
from serving.catalog import service
from serving.catalog.schemas import (
    CATEGORY_PATH_PATTERN,
    SKU_PATTERN,
    CategoryNode,
    ProductCreate,
    ProductPublic,
    ProductReplace,
    ProductSort,
    ProductsPage,
    ProductStatus,
    ProductUpdate,
)
from serving.deps import (
    AdminUser,
    AsyncRedisDep,
    ConnDep,
    EngineDep,
    OptionalUser,
    RedisDep,
    SettingsDep,
    WriteRateLimit,
)
from serving.errors import ApiError, CommonError
from serving.security import Role, TokenClaims

router = APIRouter(prefix="/v1", tags=["catalog"], dependencies=[Public])
admin_router = APIRouter(prefix="/v1/admin", tags=["catalog"], dependencies=[WriteRateLimit])

SkuPath = Annotated[str, Path(pattern=SKU_PATTERN, description="the product's SKU")]
IfMatch = Annotated[
    str | None,
    Header(max_length=32, description='the version the change applies to, e.g. "3"'),
]


def _is_admin(user: TokenClaims | None) -> bool:
    return user is not None and user.role == Role.ADMIN


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ApiError(
            422, CommonError.VALIDATION_FAILED, 'If-Match must be a product version, e.g. "3"'
        )
    return int(value)


@router.get("/products")
def list_products(
    conn: ConnDep,
    user: OptionalUser,
    category: Annotated[str | None, Query(pattern=CATEGORY_PATH_PATTERN)] = None,
    brand: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    product_status: Annotated[ProductStatus | None, Query(alias="status")] = None,
    sort: ProductSort = "newest",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> ProductsPage:
    """Products page by page; pass `next_cursor` back as `cursor` for the next page."""
    return service.list_products(
        conn,
        category=category,
        brand=brand,
        status=product_status,
        sort=sort,
        limit=limit,
        cursor=cursor,
        is_admin=_is_admin(user),
    )


@router.get("/products/{sku}", response_model=ProductPublic)
async def get_product(
    sku: SkuPath,
    engine: EngineDep,
    redis: RedisDep,
    async_redis: AsyncRedisDep,
    settings: SettingsDep,
    user: OptionalUser,
) -> Response:
    """The product, cache-first; the cached JSON goes out as it is (ProductPublic's own)."""
    product = await service.get_product_json_async(
        engine, redis, async_redis, settings, sku, is_admin=_is_admin(user)
    )
    return Response(product.body, media_type="application/json", headers={"ETag": product.etag})


@router.get("/categories")
def list_categories(conn: ConnDep) -> list[CategoryNode]:
    return service.category_tree(conn)


@admin_router.post("/products", status_code=status.HTTP_201_CREATED)
def create_product(
    body: ProductCreate, _admin: AdminUser, conn: ConnDep, redis: RedisDep
) -> ProductPublic:
    return service.create_product(conn, redis, body)


@admin_router.put("/products/{sku}")
def replace_product(
    sku: SkuPath,
    body: ProductReplace,
    _admin: AdminUser,
    conn: ConnDep,
    redis: RedisDep,
    if_match: IfMatch = None,
) -> ProductPublic:
    return service.replace_product(conn, redis, sku, body, _expected_version(if_match))


@admin_router.patch("/products/{sku}")
def update_product(
    sku: SkuPath,
    body: ProductUpdate,
    _admin: AdminUser,
    conn: ConnDep,
    redis: RedisDep,
    if_match: IfMatch = None,
) -> ProductPublic:
    return service.update_product(conn, redis, sku, body, _expected_version(if_match))


@admin_router.delete("/products/{sku}", status_code=status.HTTP_204_NO_CONTENT)
def discontinue_product(sku: SkuPath, _admin: AdminUser, conn: ConnDep, redis: RedisDep) -> None:
    """Discontinue the product: it stays readable by SKU (orders and carts refer to it)."""
    service.discontinue_product(conn, redis, sku)
