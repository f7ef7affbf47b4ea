"""HTTP routes of catalog (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["catalog"])
admin_router = APIRouter(prefix="/v1/admin", tags=["catalog"])
