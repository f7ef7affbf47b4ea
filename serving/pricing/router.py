"""HTTP routes of pricing: /v1/pricing/quote and /v1/admin/promotions*."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from serving.access import Public
from serving.deps import AdminUser, ConnDep, RedisDep, SettingsDep, WriteRateLimit
from serving.pricing import service
from serving.pricing.schemas import (
    CouponCode,
    PromotionCreate,
    PromotionPublic,
    PromotionsPage,
    PromotionUpdate,
    QuotePublic,
    QuoteRequest,
)

router = APIRouter(prefix="/v1", tags=["pricing"], dependencies=[Public])
admin_router = APIRouter(prefix="/v1/admin", tags=["pricing"])


@router.post("/pricing/quote")
def quote(body: QuoteRequest, conn: ConnDep, redis: RedisDep, settings: SettingsDep) -> QuotePublic:
    """Price {sku, quantity} lines with live catalog prices and the promotions running now,
    explaining each adjustment. Anonymous callers are welcome. Unknown, draft or discontinued
    SKUs give 422 with one detail per line. A coupon's usage limit is checked when a cart
    claims it, not here."""
    return service.quote(conn, redis, settings, body)


@admin_router.post(
    "/promotions", status_code=status.HTTP_201_CREATED, dependencies=[WriteRateLimit]
)
def create_promotion(body: PromotionCreate, _admin: AdminUser, conn: ConnDep) -> PromotionPublic:
    return service.create_promotion(conn, body)


@admin_router.get("/promotions")
def list_promotions(
    _admin: AdminUser,
    conn: ConnDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    active: bool | None = None,
    coupon_code: CouponCode | None = None,
) -> PromotionsPage:
    return service.list_promotions(
        conn, limit=limit, offset=offset, active=active, coupon_code=coupon_code
    )


@admin_router.get("/promotions/{promotion_id}")
def get_promotion(promotion_id: uuid.UUID, _admin: AdminUser, conn: ConnDep) -> PromotionPublic:
    return service.get_promotion(conn, str(promotion_id))


@admin_router.patch("/promotions/{promotion_id}", dependencies=[WriteRateLimit])
def update_promotion(
    promotion_id: uuid.UUID, body: PromotionUpdate, _admin: AdminUser, conn: ConnDep
) -> PromotionPublic:
    return service.update_promotion(conn, str(promotion_id), body)


@admin_router.delete(
    "/promotions/{promotion_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[WriteRateLimit],
)
def delete_promotion(promotion_id: uuid.UUID, _admin: AdminUser, conn: ConnDep) -> None:
    service.delete_promotion(conn, str(promotion_id))
