"""The FastAPI application: one router per domain, pools opened and closed by the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import redis
import redis.asyncio
from fastapi import FastAPI

from serving import health, middleware, operator
from serving.access import declare_access
from serving.accounts.router import auth_router, logout_router, users_router
from serving.background import PeriodicTask
from serving.behaviour.router import router as behaviour_router
from serving.behaviour_publisher import BehaviourPublisher
from serving.cart.router import router as cart_router
from serving.catalog.fast_path import CachedProductReads
from serving.catalog.router import admin_router as catalog_admin_router
from serving.catalog.router import router as catalog_router
from serving.checkout import service as checkout
from serving.checkout.router import router as checkout_router
from serving.errors import ERROR_RESPONSES, install_error_handlers
from serving.fulfilment.router import ops_router as fulfilment_ops_router
from serving.fulfilment.router import router as fulfilment_router
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
from serving.passwords import PasswordPool
from serving.payments.deps import gateway_of
from serving.pricing.router import admin_router as pricing_admin_router
from serving.pricing.router import router as pricing_router
from serving.ratelimit import RateLimiter
from serving.recommendations.router import router as recommendations_router
from serving.returns.router import ops_router as returns_ops_router
from serving.returns.router import router as returns_router
from serving.revocation import RevokedSessions
from serving.search.router import router as search_router
from serving.wishlist.router import router as wishlist_router
from shoplake.config import Settings, get_settings
from shoplake.db import make_engine

log = logging.getLogger(__name__)


def _configure_logging(settings: Settings) -> None:
    """The app's own loggers at the settings' level (uvicorn configures only its own)."""
    level = settings.log_level.upper()
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in ("serving", "shoplake"):
        logging.getLogger(name).setLevel(level)


def open_redis(settings: Settings) -> redis.Redis:
    """Redis with short timeouts: a dead server answers in ~a second, never hangs a request;
    the pool reconnects by itself once it is back."""
    return redis.Redis.from_url(
        settings.redis_endpoint,
        decode_responses=True,
        max_connections=200,
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=settings.redis_connect_timeout_s,
        health_check_interval=30,
    )


def _relay_role(relay: RelayThread | None) -> Callable[[], str | None]:
    """What /readyz says of this worker's relay: leader, standby, or none here."""

    def role() -> str | None:
        return relay.relay.role if relay is not None else None

    return role


def open_async_redis(settings: Settings) -> redis.asyncio.Redis:
    """The same Redis for the event loop's own commands (`async def` routes, the caller's
    revocation check, the rate limits). Its callers bound each command with
    `asyncio.timeout(redis_socket_timeout_s)` (`serving.redis_async.bounded`): redis-py's own
    socket timeout would wrap every write in `asyncio.wait_for`, a task per command."""
    client: redis.asyncio.Redis = redis.asyncio.Redis.from_url(
        settings.redis_endpoint,
        decode_responses=True,
        max_connections=200,
        socket_connect_timeout=settings.redis_connect_timeout_s,
        health_check_interval=30,
    )
    return client


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    _configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        # As many kept connections as the thread pool has threads (anyio's 40), where every
        # blocking transaction runs: with 20 kept and 20 overflow, a load of more than 20 at a
        # time opened and closed a connection (a Postgres backend forked) per request beyond
        # the 20th. 10 overflow for the background threads (maintenance, relay, health).
        app.state.engine = make_engine(settings, pool_size=40, max_overflow=10)
        app.state.redis = open_redis(settings)
        app.state.async_redis = open_async_redis(settings)
        app.state.rate_limiter = RateLimiter(
            app.state.redis, app.state.async_redis, settings.redis_socket_timeout_s
        )
        app.state.revoked_sessions = RevokedSessions(
            app.state.redis, app.state.async_redis, settings
        )
        app.state.password_pool = PasswordPool(settings)
        inventory.start(app.state.engine, app.state.redis, settings)
        app.state.behaviour = BehaviourPublisher(settings)
        app.state.behaviour.start()
        relay: RelayThread | None = None
        if settings.outbox_relay_in_app:
            # Every worker runs one; the advisory lock makes one of them the leader.
            relay = RelayThread(OutboxRelay(settings, app.state.engine))
            relay.start()
        app.state.health_monitor = health.HealthMonitor(
            settings,
            app.state.engine,
            relay_role=_relay_role(relay),
        )
        app.state.health_monitor.start()
        app.state.relay = relay
        log.debug(
            "worker ready: api_workers=%s relay_in_app=%s log_level=%s",
            settings.api_workers,
            settings.outbox_relay_in_app,
            settings.log_level,
        )
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
            app.state.health_monitor.stop()
            if maintenance is not None:
                maintenance.stop()
            if relay is not None:
                relay.stop()
            app.state.behaviour.stop()
            app.state.password_pool.close()
            app.state.redis.close()
            await app.state.async_redis.aclose()
            app.state.engine.dispose()

    protected = settings.operator_endpoints_protected
    app = FastAPI(
        title="shoplake",
        version="0.1.0",
        description="Serving APIs of shoplake. Errors: {error: {code, message, details}}.",
        lifespan=lifespan,
        # FastAPI's OpenTelemetry hooks, off: the API exports Prometheus metrics itself, and
        # left on they ask OpenTelemetry for its providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        responses=ERROR_RESPONSES,
        # Admin-only docs are served by serving/operator.py behind AdminUser instead.
        docs_url=None if protected else "/docs",
        redoc_url=None if protected else "/redoc",
        openapi_url=None if protected else "/openapi.json",
    )
    install_error_handlers(app)
    # Innermost of the app's middlewares (added first), so its answers still get theirs.
    app.add_middleware(CachedProductReads)
    middleware.install(app, settings)

    routers = (
        health.router,
        operator.router(protected),
        auth_router,
        logout_router,
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
        recommendations_router,
        fulfilment_router,
        fulfilment_ops_router,
        returns_router,
        returns_ops_router,
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
