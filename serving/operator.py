"""What operators read: `/metrics`, and — when `operator_endpoints_admin_only` is on, or in
production — the OpenAPI document and the interactive docs, for administrators only.

Open by default in development (FastAPI serves the docs itself); in production the app is
built without FastAPI's own docs routes and serves these behind `AdminUser` instead, so
neither the API's full surface nor the process's metrics are public.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from serving.access import Public
from serving.deps import AdminUser
from serving.health import metrics


def router(protected: bool) -> APIRouter:
    """The operator routes; behind AdminUser when `protected`."""
    if not protected:
        public = APIRouter(tags=["health"], dependencies=[Public])
        public.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
        return public

    admin = APIRouter(tags=["health"])

    @admin.get("/metrics", include_in_schema=False)
    def admin_metrics(_admin: AdminUser) -> Response:
        return metrics()

    @admin.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request, _admin: AdminUser) -> JSONResponse:
        document: dict[str, Any] = request.app.openapi()
        return JSONResponse(document)

    @admin.get("/docs", include_in_schema=False)
    def docs(_admin: AdminUser) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="shoplake (admin)")

    @admin.get("/redoc", include_in_schema=False)
    def redoc(_admin: AdminUser) -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title="shoplake (admin)")

    return admin
