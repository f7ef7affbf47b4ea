"""Request dependencies as Annotated aliases: settings, connections, the caller and their role."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Awaitable, Callable, Iterator
from enum import StrEnum
from functools import lru_cache
from typing import Annotated

import redis
import redis.asyncio
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Connection, Engine

from serving.access import Access, mark
from serving.errors import ApiError, CommonError
from serving.passwords import PasswordPool
from serving.payments.deps import gateway_of
from serving.ratelimit import Limiter
from serving.revocation import RevokedSessions
from serving.security import InvalidToken, Role, TokenClaims, decode_token
from serving.unit_of_work import SqlUnitOfWork, UnitOfWork
from shoplake.config import Settings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_conn(request: Request) -> Iterator[Connection]:
    """A connection whose transaction commits when the handler returns, and rolls back on error."""
    engine: Engine = request.app.state.engine
    with engine.begin() as conn:
        yield conn


async def get_redis(request: Request) -> redis.Redis:
    client: redis.Redis = request.app.state.redis
    return client


async def get_async_redis(request: Request) -> redis.asyncio.Redis:
    client: redis.asyncio.Redis = request.app.state.async_redis
    return client


# The dependencies that only read app.state are `async def`: FastAPI runs a plain `def`
# dependency in the thread pool, a hop per dependency per request for no I/O at all.
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]
# scope="function": commit before the response is sent, so a client that reads right after
# its write sees it (the default scope would run the commit after the response went out).
ConnDep = Annotated[Connection, Depends(get_conn, scope="function")]
RedisDep = Annotated[redis.Redis, Depends(get_redis)]
# For the few `async def` routes whose hot path is one Redis read (the product cache).
AsyncRedisDep = Annotated[redis.asyncio.Redis, Depends(get_async_redis)]


async def get_revoked(request: Request) -> RevokedSessions:
    revoked: RevokedSessions = request.app.state.revoked_sessions
    return revoked


async def get_password_pool(request: Request) -> PasswordPool:
    pool: PasswordPool = request.app.state.password_pool
    return pool


RevokedDep = Annotated[RevokedSessions, Depends(get_revoked)]
PasswordPoolDep = Annotated[PasswordPool, Depends(get_password_pool)]


def access_claims(request: Request, settings: Settings, token: str) -> TokenClaims:
    """The access token's claims, decoded and checked once per request (the rate limiter and
    the caller's dependency both need them); an invalid token raises InvalidToken each time."""
    state = request.state
    cached = getattr(state, "access_claims", None)
    if cached is not None and cached[0] == token:
        outcome: TokenClaims | InvalidToken = cached[1]
    else:
        try:
            outcome = decode_token(settings, token, "access")
        except InvalidToken as exc:
            outcome = exc
        state.access_claims = (token, outcome)
    if isinstance(outcome, InvalidToken):
        raise outcome
    return outcome


# The caller's dependencies run on the event loop: a token is decoded in microseconds and
# its session's revocation and the rate limit are one Redis command each (`redis.asyncio`),
# so every authenticated request is spared two or three hops to the thread pool.
async def _claims(
    request: Request,
    settings: SettingsDep,
    revoked: RevokedDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> TokenClaims:
    if not token:
        raise ApiError(
            401,
            CommonError.NOT_AUTHENTICATED,
            "a bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        claims = access_claims(request, settings, token)
    except InvalidToken as exc:
        raise ApiError(
            401,
            CommonError.NOT_AUTHENTICATED,
            "the token is invalid or expired",
            details=str(exc),
            headers={"WWW-Authenticate": "Bearer"},
        ) from exc
    # Logout, a password change or a reused refresh token revoked the session.
    if await revoked.is_revoked_async(claims.session_id):
        raise ApiError(
            401,
            CommonError.NOT_AUTHENTICATED,
            "the session of this token has ended; log in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return claims


async def _optional_claims(
    request: Request,
    settings: SettingsDep,
    revoked: RevokedDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> TokenClaims | None:
    if not token:
        return None
    return await _claims(request, settings, revoked, token)


mark(_claims, Access.USER)
CurrentUser = Annotated[TokenClaims, Depends(_claims)]
OptionalUser = Annotated[TokenClaims | None, Depends(_optional_claims)]


# The access each set of roles declares (serving/access.py); a new set needs its own Access.
_ROLE_ACCESS = {
    frozenset({Role.ADMIN}): Access.ADMIN,
    frozenset({Role.ADMIN, Role.OPS}): Access.STAFF,
    frozenset({Role.SUPPLIER}): Access.SUPPLIER,
}


def require_roles(*roles: Role) -> Callable[[TokenClaims], Awaitable[TokenClaims]]:
    access = _ROLE_ACCESS.get(frozenset(roles))
    if access is None:
        raise ValueError(f"no Access declared for the roles {sorted(roles)}: add one")

    async def check(claims: CurrentUser) -> TokenClaims:
        if claims.role not in roles:
            raise ApiError(
                403,
                CommonError.FORBIDDEN,
                f"this route needs the role {' or '.join(r.value for r in roles)}",
            )
        return claims

    mark(check, access)
    return check


AdminUser = Annotated[TokenClaims, Depends(require_roles(Role.ADMIN))]
StaffUser = Annotated[TokenClaims, Depends(require_roles(Role.ADMIN, Role.OPS))]
SupplierUser = Annotated[TokenClaims, Depends(require_roles(Role.SUPPLIER))]


@lru_cache(maxsize=16)
def _networks(
    proxies: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(
    address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: Request, settings: Settings) -> str:
    """The caller's address. `X-Forwarded-For` is believed only when the peer is one of
    `trusted_proxies` (none by default), and then only up to the first hop that is not a
    trusted proxy itself, so a client cannot choose the address it is counted under."""
    peer = request.client.host if request.client else "unknown"
    networks = _networks(tuple(settings.trusted_proxies))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


class Keying(StrEnum):
    """Whose bucket a rule spends: `USER` the signed-in user's (the token's subject), else the
    address's; `ADDRESS` always the address's (the rules that guard logins and registration,
    so that no token, valid or not, moves a caller to another bucket)."""

    USER = "user"
    ADDRESS = "address"


def limit_subject(keying: Keying, user_id: str | None, address: str) -> str:
    """The bucket a request spends: many shoppers behind one address (a campus, a carrier's
    NAT) each have their own when signed in; anonymous callers share their address's."""
    if keying is Keying.USER and user_id is not None:
        return f"user:{user_id}"
    return f"ip:{address}"


def rate_limited(
    rule: str, per_minute: Callable[[Settings], int], *, keying: Keying = Keying.USER
) -> Callable[..., Awaitable[None]]:
    """A dependency that spends one token of the caller's bucket (`limit_subject`); only a
    valid access token names a user."""

    async def check(
        request: Request,
        settings: SettingsDep,
        token: Annotated[str | None, Depends(oauth2_scheme)],
    ) -> None:
        user_id: str | None = None
        if keying is Keying.USER and token:
            with contextlib.suppress(InvalidToken):
                user_id = access_claims(request, settings, token).user_id
        subject = limit_subject(keying, user_id, client_ip(request, settings))
        limiter: Limiter = request.app.state.rate_limiter
        decision = await limiter.hit_async(rule, subject, per_minute(settings))
        if not decision.allowed:
            raise ApiError(
                429,
                CommonError.RATE_LIMITED,
                "too many requests; slow down",
                details={"rule": rule, "retry_after_s": decision.retry_after_s},
                headers={"Retry-After": str(decision.retry_after_s)},
            )

    return check


AuthRateLimit = Depends(
    rate_limited("auth", lambda s: s.rate_limit_auth_per_minute, keying=Keying.ADDRESS)
)
RegisterRateLimit = Depends(
    rate_limited("register", lambda s: s.rate_limit_register_per_minute, keying=Keying.ADDRESS)
)
WriteRateLimit = Depends(rate_limited("write", lambda s: s.rate_limit_write_per_minute))
# Checkout and cart writes have buckets of their own, per user: a sale's crowd behind one
# address is not turned away, and a shopper's cart edits never eat into their checkouts.
CheckoutRateLimit = Depends(rate_limited("checkout", lambda s: s.rate_limit_checkout_per_minute))
CartRateLimit = Depends(rate_limited("cart", lambda s: s.rate_limit_cart_per_minute))
BehaviourRateLimit = Depends(rate_limited("behaviour", lambda s: s.rate_limit_behaviour_per_minute))


async def get_unit_of_work(request: Request) -> UnitOfWork:
    """The money paths' unit of work for this request: each `with` of it is one transaction;
    the payment gateway is made (once per process) only if the request uses it."""
    state = request.app.state
    return SqlUnitOfWork(
        state.engine,
        redis_client=state.redis,
        settings=state.settings,
        make_gateway=lambda: gateway_of(state, state.settings),
    )


UnitOfWorkDep = Annotated[UnitOfWork, Depends(get_unit_of_work)]
