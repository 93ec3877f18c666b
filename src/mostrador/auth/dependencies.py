"""Typed request dependencies: the runtime, a unit-of-work session, and the authenticated user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.exceptions import Forbidden, Unauthorized
from mostrador.models import Role, User
from mostrador.runtime import Runtime
from mostrador.users.service import user as user_service


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    # scope="function": commit before the response leaves, so a 2xx always means "stored".
    async with runtime.unit_of_work() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_api_user(request: Request, session: SessionDep) -> User:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>'", code="missing_token")
    user = await user_service.resolve_token(session, token.strip())
    if user is None:
        raise Unauthorized("the API token is unknown or revoked", code="invalid_token")
    request.state.user = user
    return user


ApiUser = Annotated[User, Depends(get_api_user)]


def require_role(*roles: Role) -> object:
    async def check(user: ApiUser) -> User:
        if user.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(r.value for r in roles)}", code="role_required")
        return user

    return Depends(check)
