"""Who calls the API in a test: a registered user with a role and the headers of their token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from serving.security import Role


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str
    password: str
    role: Role
    headers: dict[str, str]


MakeCaller = Callable[..., Caller]
