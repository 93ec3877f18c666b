"""Session cookie, CSRF tokens, login throttling and the security headers of every UI response."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Final

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mostrador.kit.ratelimit import RateLimitStore

SESSION_COOKIE: Final = "mostrador_session"
# Anonymous visitors (the login form) get a CSRF seed of their own, replaced by the session's at login.
PRESESSION_COOKIE: Final = "mostrador_presession"
CSRF_HEADER: Final = "X-CSRF-Token"
CSRF_FIELD: Final = "csrf_token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


# ---------------------------------------------------------------------------------------------------------------
# session cookie


@dataclass(frozen=True)
class SessionData:
    user_id: int
    version: int
    # Random per login: the CSRF token is derived from it, so tokens rotate with every login.
    nonce: str


def _session_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="mostrador.session")


def new_session(user_id: int, version: int) -> SessionData:
    return SessionData(user_id=user_id, version=version, nonce=secrets.token_urlsafe(18))


def dump_session(secret_key: str, data: SessionData) -> str:
    return _session_serializer(secret_key).dumps({"u": data.user_id, "v": data.version, "n": data.nonce})


def load_session(secret_key: str, raw: str | None, max_age_s: int) -> SessionData | None:
    if not raw:
        return None
    try:
        payload = _session_serializer(secret_key).loads(raw, max_age=max_age_s)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(payload, dict):
        return None
    user_id, version, nonce = payload.get("u"), payload.get("v"), payload.get("n")
    if not (isinstance(user_id, int) and isinstance(version, int) and isinstance(nonce, str) and nonce):
        return None
    return SessionData(user_id=user_id, version=version, nonce=nonce)


def is_https(connection: HTTPConnection) -> bool:
    return connection.url.scheme == "https"


def set_session_cookie(
    response: Response, request: Request, secret_key: str, data: SessionData, max_age_s: int
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        dump_session(secret_key, data),
        max_age=max_age_s,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request))


# ---------------------------------------------------------------------------------------------------------------
# CSRF: a signed copy of the session's seed, checked with a constant-time comparison


def _csrf_serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="mostrador.csrf")


def csrf_token_for(secret_key: str, seed: str) -> str:
    return str(_csrf_serializer(secret_key).dumps(seed))


def csrf_token_valid(secret_key: str, seed: str | None, token: str | None) -> bool:
    if not seed or not token:
        return False
    try:
        value = _csrf_serializer(secret_key).loads(token)
    except BadSignature:
        return False
    return isinstance(value, str) and hmac.compare_digest(value.encode(), seed.encode())


def dump_presession(secret_key: str, seed: str) -> str:
    return str(URLSafeSerializer(secret_key, salt="mostrador.presession").dumps(seed))


def load_presession(secret_key: str, raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        value = URLSafeSerializer(secret_key, salt="mostrador.presession").loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) and value else None


# ---------------------------------------------------------------------------------------------------------------
# login throttling


class LoginThrottle:
    """At most ``attempts`` logins per ``window_s`` for one (IP, e-mail), plus a looser per-IP cap.

    GCRA over the runtime's :class:`RateLimitStore`: in embedded mode that is the in-process store, in
    distributed mode the Redis store from :mod:`mostrador.kit.ratelimit`, so every web process shares one count.
    A successful login clears the (IP, e-mail) key.
    """

    def __init__(self, attempts: int = 5, window_s: float = 300.0, ip_attempts: int = 30) -> None:
        self.interval_s = window_s / attempts
        self.tolerance_s = (attempts - 1) * self.interval_s
        self.ip_interval_s = window_s / ip_attempts
        self.ip_tolerance_s = (ip_attempts - 1) * self.ip_interval_s

    @staticmethod
    def _key(ip: str, email: str) -> str:
        digest = hashlib.sha256(f"{ip}|{email.strip().lower()}".encode()).hexdigest()[:32]
        return f"login:pair:{digest}"

    async def allow(self, store: RateLimitStore, ip: str, email: str) -> bool:
        ip_slot = await store.reserve(f"login:ip:{ip}", self.ip_interval_s, self.ip_tolerance_s, max_wait_s=0.0)
        if not ip_slot.granted:
            return False
        pair = await store.reserve(self._key(ip, email), self.interval_s, self.tolerance_s, max_wait_s=0.0)
        return pair.granted

    async def succeeded(self, store: RateLimitStore, ip: str, email: str) -> None:
        await store.reset(self._key(ip, email))


login_throttle = LoginThrottle()


# ---------------------------------------------------------------------------------------------------------------
# security headers


CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


class SecurityHeadersMiddleware:
    """Pure ASGI (streams such as SSE pass straight through).

    Every response gets ``nosniff`` and ``Referrer-Policy``; HTML responses also get the CSP and
    ``X-Frame-Options``. Paths under ``exclude_prefixes`` (the simulator's own pages) keep their own policy.
    """

    def __init__(self, app: ASGIApp, exclude_prefixes: tuple[str, ...] = ("/sim",)) -> None:
        self.app = app
        self.exclude_prefixes = exclude_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        excluded = any(path == p or path.startswith(p + "/") for p in self.exclude_prefixes)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra: list[tuple[bytes, bytes]] = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if not excluded and content_type.startswith(b"text/html"):
                    extra.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                    extra.append((b"x-frame-options", b"DENY"))
                headers.extend((k, v) for k, v in extra if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
