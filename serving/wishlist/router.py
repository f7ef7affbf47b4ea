"""HTTP routes of wishlist (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["wishlist"])
