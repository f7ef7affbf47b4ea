"""HTTP routes of accounts: /v1/auth/* and /v1/users/me*."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from serving.access import Public
from serving.accounts import service
from serving.accounts.schemas import (
    AddressCreate,
    AddressPublic,
    AddressUpdate,
    RefreshRequest,
    RegistrationAccepted,
    TokenPair,
    UserPublic,
    UserRegister,
    UserUpdate,
)
from serving.deps import (
    AuthRateLimit,
    ConnDep,
    CurrentUser,
    EngineDep,
    PasswordPoolDep,
    RedisDep,
    RegisterRateLimit,
    RevokedDep,
    SettingsDep,
    WriteRateLimit,
)

auth_router = APIRouter(prefix="/v1/auth", tags=["accounts"], dependencies=[Public, AuthRateLimit])
logout_router = APIRouter(prefix="/v1/auth", tags=["accounts"])
users_router = APIRouter(prefix="/v1/users", tags=["accounts"])


@auth_router.post(
    "/register", status_code=status.HTTP_202_ACCEPTED, dependencies=[RegisterRateLimit]
)
async def register(
    body: UserRegister, engine: EngineDep, pool: PasswordPoolDep
) -> RegistrationAccepted:
    """The same answer whether the address was free or taken: log in to know."""
    return await service.register_quietly(engine, pool, body)


@auth_router.post("/token")
async def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    engine: EngineDep,
    redis: RedisDep,
    settings: SettingsDep,
    pool: PasswordPoolDep,
    x_cart_token: Annotated[str | None, Header(max_length=128)] = None,
) -> TokenPair:
    """OAuth2 password flow (username = email): a new session. An anonymous cart named by
    X-Cart-Token merges into the user's cart."""
    guards = service.LoginGuards.of(redis, request.app.state.rate_limiter, settings)
    return await service.login(
        engine, redis, settings, pool, guards, form.username, form.password, x_cart_token
    )


@auth_router.post("/refresh")
def refresh(
    body: RefreshRequest, engine: EngineDep, revoked: RevokedDep, settings: SettingsDep
) -> TokenPair:
    """The session's next token pair; each refresh token works once."""
    return service.refresh(engine, revoked, settings, body.refresh_token)


@logout_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(user: CurrentUser, engine: EngineDep, revoked: RevokedDep) -> None:
    """End this token's session: its access and refresh tokens stop working."""
    service.logout(engine, revoked, user.session_id)


@users_router.get("/me")
def get_me(user: CurrentUser, conn: ConnDep) -> UserPublic:
    return service.get_me(conn, user.user_id)


@users_router.patch("/me", dependencies=[WriteRateLimit])
def update_me(
    body: UserUpdate,
    user: CurrentUser,
    conn: ConnDep,
    settings: SettingsDep,
    pool: PasswordPoolDep,
    revoked: RevokedDep,
) -> UserPublic:
    """Profile changes; a new password (with the current one) ends every session."""
    return service.update_me(conn, settings, pool, revoked, user.user_id, body)


@users_router.get("/me/addresses")
def list_addresses(user: CurrentUser, conn: ConnDep) -> list[AddressPublic]:
    return service.list_addresses(conn, user.user_id)


@users_router.post(
    "/me/addresses", status_code=status.HTTP_201_CREATED, dependencies=[WriteRateLimit]
)
def add_address(body: AddressCreate, user: CurrentUser, conn: ConnDep) -> AddressPublic:
    return service.add_address(conn, user.user_id, body)


@users_router.patch("/me/addresses/{address_id}", dependencies=[WriteRateLimit])
def update_address(
    address_id: uuid.UUID, body: AddressUpdate, user: CurrentUser, conn: ConnDep
) -> AddressPublic:
    return service.update_address(conn, user.user_id, str(address_id), body)


@users_router.delete(
    "/me/addresses/{address_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[WriteRateLimit],
)
def delete_address(address_id: uuid.UUID, user: CurrentUser, conn: ConnDep) -> None:
    service.delete_address(conn, user.user_id, str(address_id))
