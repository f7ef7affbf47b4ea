"""Request dependencies as Annotated aliases: settings, connections, the caller and their role."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Annotated

import redis
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Connection, Engine

from serving.access import Access, mark
from serving.errors import ApiError, CommonError
from serving.payments.deps import gateway_of
from serving.ratelimit import RateLimiter
from serving.security import InvalidToken, Role, TokenClaims, decode_token
from serving.unit_of_work import SqlUnitOfWork, UnitOfWork
from shoplake.config import Settings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_conn(request: Request) -> Iterator[Connection]:
    """A connection whose transaction commits when the handler returns, and rolls back on error."""
    engine: Engine = request.app.state.engine
    with engine.begin() as conn:
        yield conn


def get_redis(request: Request) -> redis.Redis:
    client: redis.Redis = request.app.state.redis
    return client


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]
# scope="function": commit before the response is sent, so a client that reads right after
# its write sees it (the default scope would run the commit after the response went out).
ConnDep = Annotated[Connection, Depends(get_conn, scope="function")]
RedisDep = Annotated[redis.Redis, Depends(get_redis)]


def _claims(
    settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> TokenClaims:
    if not token:
        raise ApiError(
            401,
            CommonError.NOT_AUTHENTICATED,
            "a bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        return decode_token(settings, token, "access")
    except InvalidToken as exc:
        raise ApiError(
            401,
            CommonError.NOT_AUTHENTICATED,
            "the token is invalid or expired",
            details=str(exc),
            headers={"WWW-Authenticate": "Bearer"},
        ) from exc


def _optional_claims(
    settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> TokenClaims | None:
    return _claims(settings, token) if token else None


mark(_claims, Access.USER)
CurrentUser = Annotated[TokenClaims, Depends(_claims)]
OptionalUser = Annotated[TokenClaims | None, Depends(_optional_claims)]


# The access each set of roles declares (serving/access.py); a new set needs its own Access.
_ROLE_ACCESS = {
    frozenset({Role.ADMIN}): Access.ADMIN,
    frozenset({Role.ADMIN, Role.OPS}): Access.STAFF,
    frozenset({Role.SUPPLIER}): Access.SUPPLIER,
}


def require_roles(*roles: Role) -> Callable[[TokenClaims], TokenClaims]:
    access = _ROLE_ACCESS.get(frozenset(roles))
    if access is None:
        raise ValueError(f"no Access declared for the roles {sorted(roles)}: add one")

    def check(claims: CurrentUser) -> TokenClaims:
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


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def rate_limited(rule: str, per_minute: Callable[[Settings], int]) -> Callable[..., None]:
    """A dependency that spends one token of the caller's bucket (user if known, else IP)."""

    def check(
        request: Request,
        settings: SettingsDep,
        token: Annotated[str | None, Depends(oauth2_scheme)],
    ) -> None:
        subject = f"ip:{client_ip(request)}"
        if token:
            with contextlib.suppress(InvalidToken):
                subject = f"user:{decode_token(settings, token, 'access').user_id}"
        limiter: RateLimiter = request.app.state.rate_limiter
        decision = limiter.hit(rule, subject, per_minute(settings))
        if not decision.allowed:
            raise ApiError(
                429,
                CommonError.RATE_LIMITED,
                "too many requests; slow down",
                details={"rule": rule, "retry_after_s": decision.retry_after_s},
                headers={"Retry-After": str(decision.retry_after_s)},
            )

    return check


AuthRateLimit = Depends(rate_limited("auth", lambda s: s.rate_limit_auth_per_minute))
WriteRateLimit = Depends(rate_limited("write", lambda s: s.rate_limit_write_per_minute))
BehaviourRateLimit = Depends(rate_limited("behaviour", lambda s: s.rate_limit_behaviour_per_minute))


def get_unit_of_work(request: Request) -> UnitOfWork:
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
