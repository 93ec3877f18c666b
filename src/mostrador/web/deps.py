"""UI dependencies: who is signed in (``CurrentAgent``), role gates, the nav shell, CSRF and UI marking.

Every UI router is built with :func:`ui_router`, which marks the request as a UI request (errors render as HTML
pages instead of JSON) and checks the CSRF token on every state-changing method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from mostrador.accounts.service import account as account_service
from mostrador.auth.dependencies import SessionDep
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.labels.service import label as label_service
from mostrador.models import Account, Inbox, Label, Role, Team, User
from mostrador.teams.service import team as team_service
from mostrador.users.repository import UserRepository
from mostrador.web import i18n
from mostrador.web.htmx import safe_next
from mostrador.web.security import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, csrf_token_valid, load_session
from mostrador.web.templating import csrf_seeds


class LoginRequired(Exception):
    def __init__(self, next_url: str) -> None:
        super().__init__("login required")
        self.next_url = next_url


class PermissionDenied(Exception):
    def __init__(self, message: str = "") -> None:
        super().__init__(message or "permission denied")
        self.message = message


class CsrfFailed(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------------


async def mark_ui(request: Request) -> None:
    request.state.ui = True


async def verify_csrf(request: Request) -> None:
    """Header ``X-CSRF-Token`` (HTMX, via hx-headers on <body>) or the form field ``csrf_token``."""
    if request.method in SAFE_METHODS:
        return
    token = request.headers.get(CSRF_HEADER)
    if not token:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    secret_key = request.app.state.runtime.settings.resolved_secret_key
    if not any(csrf_token_valid(secret_key, seed, token) for seed in csrf_seeds(request)):
        raise CsrfFailed()


def ui_router(**kwargs: object) -> APIRouter:
    """An APIRouter for HTML routes: UI error pages, CSRF on POST/PUT/PATCH/DELETE, hidden from the API docs."""
    return APIRouter(
        dependencies=[Depends(mark_ui), Depends(verify_csrf)],
        include_in_schema=False,
        **kwargs,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------------------------------------------------------
# who is signed in


def _next_url(request: Request) -> str:
    current = request.headers.get("hx-current-url")
    if current:
        from urllib.parse import urlsplit

        parts = urlsplit(current)
        return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    return safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))


async def load_signed_in_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in, active user whose session version still matches; also sets language and time zone."""
    settings = request.app.state.runtime.settings
    data = load_session(settings.resolved_secret_key, request.cookies.get(SESSION_COOKIE), settings.session_max_age_s)
    if data is None:
        return None
    user = await UserRepository.from_session(session).get_active(data.user_id)
    if user is None or user.session_version != data.version:
        return None
    account = await account_service.get(session, user.account_id)
    if account is None:
        return None
    request.state.user = user
    request.state.account = account
    request.state.session_data = data
    request.state.locale = i18n.resolve_locale(
        user.locale, account.locale, i18n.negotiate_accept_language(request.headers.get("accept-language"))
    )
    request.state.timezone = account.timezone
    i18n.set_locale(request.state.locale, account.timezone)
    return user


async def get_current_agent(request: Request, session: SessionDep) -> User:
    user = await load_signed_in_user(request, session)
    if user is None:
        raise LoginRequired(_next_url(request))
    return user


CurrentAgent = Annotated[User, Depends(get_current_agent)]


async def get_current_account(request: Request, _user: CurrentAgent) -> Account:
    account: Account = request.state.account
    return account


CurrentAccount = Annotated[Account, Depends(get_current_account)]


async def require_supervisor(user: CurrentAgent) -> User:
    if user.role not in (Role.admin, Role.supervisor):
        raise PermissionDenied(i18n.gettext("This page is for admins and supervisors."))
    return user


async def require_admin(user: CurrentAgent) -> User:
    if user.role is not Role.admin:
        raise PermissionDenied(i18n.gettext("Only admins can do this."))
    return user


SupervisorAgent = Annotated[User, Depends(require_supervisor)]
AdminAgent = Annotated[User, Depends(require_admin)]


# ---------------------------------------------------------------------------------------------------------------
# the nav shell around every app page


@dataclass
class Shell:
    user: User
    account: Account
    inboxes: list[Inbox] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)

    @property
    def can_supervise(self) -> bool:
        return self.user.role in (Role.admin, Role.supervisor)

    @property
    def can_administer(self) -> bool:
        return self.user.role is Role.admin


async def get_shell(request: Request, user: CurrentAgent, account: CurrentAccount, session: SessionDep) -> Shell:
    shell = Shell(
        user=user,
        account=account,
        inboxes=await inbox_service.list_for_account(session, account.id),
        labels=await label_service.list(session, account.id),
        teams=await team_service.list(session, account.id),
    )
    request.state.shell = shell
    return shell


ShellDep = Annotated[Shell, Depends(get_shell)]
