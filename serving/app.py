"""The FastAPI application: one router per domain, pools opened and closed by the lifespan."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram

from serving import health
from serving.access import declare_access
from serving.accounts.router import auth_router, users_router
from serving.background import PeriodicTask
from serving.behaviour.router import router as behaviour_router
from serving.behaviour_publisher import BehaviourPublisher
from serving.cart.router import router as cart_router
from serving.catalog.router import admin_router as catalog_admin_router
from serving.catalog.router import router as catalog_router
from serving.checkout import service as checkout
from serving.checkout.router import router as checkout_router
from serving.errors import ERROR_RESPONSES, install_error_handlers
from serving.imports.router import router as imports_router
from serving.inbound.router import orders_router as purchase_orders_router
from serving.inbound.router import supplier_router, suppliers_router
from serving.inventory import service as inventory
from serving.inventory.router import admin_router as inventory_admin_router
from serving.inventory.router import router as inventory_router
from serving.notifications.router import router as notifications_router
from serving.orders.router import admin_router as orders_admin_router
from serving.orders.router import router as orders_router
from serving.outbox import OutboxRelay, RelayThread
from serving.payments.deps import gateway_of
from serving.pricing.router import admin_router as pricing_admin_router
from serving.pricing.router import router as pricing_router
from serving.ratelimit import RateLimiter
from serving.search.router import router as search_router
from serving.wishlist.router import router as wishlist_router
from shoplake.config import Settings, get_settings
from shoplake.db import make_engine

REQUESTS = Counter("shoplake_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "shoplake_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.engine = make_engine(settings, pool_size=20)
        app.state.redis = redis.Redis.from_url(
            settings.redis_endpoint, decode_responses=True, max_connections=200
        )
        app.state.rate_limiter = RateLimiter(app.state.redis)
        inventory.start(app.state.engine, app.state.redis, settings)
        app.state.behaviour = BehaviourPublisher(settings)
        app.state.behaviour.start()
        relay: RelayThread | None = None
        if settings.outbox_relay_in_app:
            relay = RelayThread(OutboxRelay(settings, app.state.engine))
            relay.start()
        maintenance: PeriodicTask | None = None
        if settings.maintenance_interval_s > 0:
            maintenance = PeriodicTask(
                "inventory-maintenance",
                settings.maintenance_interval_s,
                lambda: (
                    # Settle orders left mid-saga first: their holds are released or sold.
                    checkout.sweep_in_app(
                        app.state.engine,
                        app.state.redis,
                        settings,
                        lambda: gateway_of(app.state, settings),
                    ),
                    inventory.run_maintenance(app.state.engine, app.state.redis, settings),
                ),
            )
            maintenance.start()
        try:
            yield
        finally:
            if maintenance is not None:
                maintenance.stop()
            if relay is not None:
                relay.stop()
            app.state.behaviour.stop()
            app.state.redis.close()
            app.state.engine.dispose()

    app = FastAPI(
        title="shoplake",
        version="0.1.0",
        description="Serving APIs of shoplake. Errors: {error: {code, message, details}}.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    install_error_handlers(app)

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        began = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        LATENCY.labels(request.method, path).observe(time.perf_counter() - began)
        REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        return response

    routers = (
        health.router,
        auth_router,
        users_router,
        catalog_router,
        catalog_admin_router,
        pricing_router,
        pricing_admin_router,
        cart_router,
        wishlist_router,
        inventory_router,
        inventory_admin_router,
        checkout_router,
        orders_router,
        orders_admin_router,
        behaviour_router,
        search_router,
        notifications_router,
        suppliers_router,
        purchase_orders_router,
        supplier_router,
        imports_router,
    )
    # Every route says who may call it, or the app is not built (serving/access.py).
    declare_access(routers)
    for router in routers:
        app.include_router(router)
    return app
