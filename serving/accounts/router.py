"""HTTP routes of accounts: /v1/auth/* and /v1/users/me*."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, status
from fastapi.security import OAuth2PasswordRequestForm

from serving.access import Public
from serving.accounts import service
from serving.accounts.schemas import (
    AddressCreate,
    AddressPublic,
    AddressUpdate,
    RefreshRequest,
    TokenPair,
    UserPublic,
    UserRegister,
    UserUpdate,
)
from serving.cart import service as cart_service
from serving.deps import AuthRateLimit, ConnDep, CurrentUser, RedisDep, SettingsDep, WriteRateLimit

auth_router = APIRouter(prefix="/v1/auth", tags=["accounts"], dependencies=[Public, AuthRateLimit])
users_router = APIRouter(prefix="/v1/users", tags=["accounts"])


@auth_router.post("/register", status_code=status.HTTP_201_CREATED)
def register(body: UserRegister, conn: ConnDep) -> UserPublic:
    return service.register(conn, body)


@auth_router.post("/token")
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    conn: ConnDep,
    redis: RedisDep,
    settings: SettingsDep,
    x_cart_token: Annotated[str | None, Header(max_length=128)] = None,
) -> TokenPair:
    """OAuth2 password flow (username = email). An anonymous cart named by X-Cart-Token merges
    into the user's cart."""
    user_id, tokens = service.login(conn, settings, form.username, form.password)
    if x_cart_token:
        cart_service.merge_anonymous(conn, redis, settings, x_cart_token, user_id)
    return tokens


@auth_router.post("/refresh")
def refresh(body: RefreshRequest, conn: ConnDep, settings: SettingsDep) -> TokenPair:
    return service.refresh(conn, settings, body.refresh_token)


@users_router.get("/me")
def get_me(user: CurrentUser, conn: ConnDep) -> UserPublic:
    return service.get_me(conn, user.user_id)


@users_router.patch("/me", dependencies=[WriteRateLimit])
def update_me(body: UserUpdate, user: CurrentUser, conn: ConnDep) -> UserPublic:
    return service.update_me(conn, user.user_id, body)


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
