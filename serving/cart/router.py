"""HTTP routes of cart (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["cart"])
