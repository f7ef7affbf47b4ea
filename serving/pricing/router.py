"""HTTP routes of pricing (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["pricing"])
admin_router = APIRouter(prefix="/v1/admin", tags=["pricing"])
