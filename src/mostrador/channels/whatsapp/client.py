"""Thin async Graph API client for the WhatsApp Cloud API (httpx).

Base URL, API version (empty: no version segment in the path), token and the header that carries it
(``auth_header``/``auth_scheme``, default ``Authorization: Bearer <token>``) are configurable, so the same
client talks to Meta, a BSP proxy or the simulator (pass ``transport=httpx.ASGITransport(app=...)`` or
``http=httpx.AsyncClient(...)``).
Every failure surfaces as ``ChannelRetriableError`` / ``ChannelPermanentError``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from mostrador.channels.base import (
    ButtonsBody,
    ChannelMediaTooLarge,
    ContactsBody,
    CtaUrlBody,
    ListBody,
    ListSection,
    LocationBody,
    LocationRequestBody,
    MediaBlob,
    MediaBody,
    MediaKind,
    OutboundBody,
    ReactionBody,
    Recipient,
    ReplyButton,
    SendResult,
    TemplateBody,
    TemplateComponent,
    TextBody,
)
from mostrador.channels.whatsapp.capabilities import WHATSAPP_CAPABILITIES, media_kind_for_mime
from mostrador.channels.whatsapp.errors import (
    error_from_exception,
    error_from_response,
    invalid_response_error,
    validation_error,
)
from mostrador.channels.whatsapp.payloads import build_mark_read_payload, build_message_payload

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_AUTH_HEADER",
    "DEFAULT_AUTH_SCHEME",
    "DEFAULT_GRAPH_URL",
    "GraphClient",
    "MediaInfo",
    "check_auth_header",
    "check_auth_scheme",
]

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v26.0"
DEFAULT_AUTH_HEADER = "Authorization"
DEFAULT_AUTH_SCHEME = "Bearer"
DEFAULT_MAX_DOWNLOAD = 100 * 1024 * 1024

# RFC 7230 §3.2.6 ``tchar``: what a header name (and an RFC 7235 auth-scheme) may contain.
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits)
# Headers the HTTP client writes itself; carrying the token in one of them would break every request.
_RESERVED_HEADERS = frozenset({"host", "content-length", "content-type", "transfer-encoding", "connection"})


def check_auth_header(name: str) -> str:
    """A valid header name to carry the token (``Authorization``, ``D360-API-KEY``, ``X-API-Key``…)."""
    name = name.strip()
    if not name:
        raise ValueError("auth_header is empty; use e.g. 'Authorization' or 'D360-API-KEY'")
    bad = sorted({c for c in name if c not in _TOKEN_CHARS})
    if bad:
        raise ValueError(
            f"auth_header {name!r} is not a valid HTTP header name: {''.join(bad)!r} not allowed "
            "(letters, digits and !#$%&'*+-.^_`|~ only)"
        )
    if name.lower() in _RESERVED_HEADERS:
        raise ValueError(f"auth_header {name!r} is set by the HTTP client itself; choose another header")
    return name


def check_auth_scheme(scheme: str) -> str:
    """``Bearer``, ``Basic``… written before the token; empty means the header value is the raw token."""
    scheme = scheme.strip()
    if any(c not in _TOKEN_CHARS for c in scheme):
        raise ValueError(
            f"auth_scheme {scheme!r} must be one word such as 'Bearer' or 'Basic', or empty for the raw token"
        )
    return scheme


def _keeps_credentials(url: httpx.URL, location: httpx.URL) -> bool:
    """httpx's rule for ``Authorization`` on a redirect: same origin, or an http → https upgrade of the host."""

    def port(u: httpx.URL) -> int | None:
        return u.port if u.port is not None else {"http": 80, "https": 443}.get(u.scheme)

    if url.host != location.host:
        return False
    if url.scheme == location.scheme:
        return port(url) == port(location)
    return url.scheme == "http" and port(url) == 80 and location.scheme == "https" and port(location) == 443


@dataclass(frozen=True)
class MediaInfo:
    id: str
    url: str
    mime_type: str | None
    sha256: str | None
    file_size: int | None


def _sha256_matches(expected: str | None, content: bytes) -> bool:
    """Meta sends hex in media lookups and base64 in some webhooks; unknown formats are not checked."""
    if not expected:
        return True
    digest = hashlib.sha256(content).digest()
    value = expected.strip()
    if len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower() == digest.hex()
    if len(value) == 44 and value.endswith("="):
        try:
            return base64.b64decode(value, validate=True) == digest
        except (binascii.Error, ValueError):
            return True
    return True


class GraphClient:
    def __init__(
        self,
        base_url: str = DEFAULT_GRAPH_URL,
        api_version: str = DEFAULT_API_VERSION,
        access_token: str = "",
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        *,
        phone_number_id: str | None = None,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD,
        auth_header: str = DEFAULT_AUTH_HEADER,
        auth_scheme: str = DEFAULT_AUTH_SCHEME,
    ) -> None:
        version = api_version.strip().strip("/")
        if version and not version.startswith("v"):
            version = f"v{version}"
        self.base_url = base_url.rstrip("/")
        self.api_version = version  # "" → no version segment (proxies that pin the version themselves)
        self.phone_number_id = phone_number_id
        self.max_download_bytes = max_download_bytes
        self.auth_header = check_auth_header(auth_header)
        self.auth_scheme = check_auth_scheme(auth_scheme)
        self._token = access_token
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout))
        self._timeout = timeout

    # lifecycle ----------------------------------------------------------------------------------

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # plumbing -----------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        prefix = f"{self.base_url}/{self.api_version}" if self.api_version else self.base_url
        return f"{prefix}/{path.lstrip('/')}"

    @staticmethod
    def _segment(value: str, what: str) -> str:
        """A Graph id used as a path segment; never lets it change the path."""
        if not value or not value.strip():
            raise validation_error(f"{what} is empty")
        return quote(value, safe="")

    @property
    def _auth(self) -> dict[str, str]:
        """The credential header sent with every call, upload and media download."""
        value = f"{self.auth_scheme} {self._token}" if self.auth_scheme else self._token
        return {self.auth_header: value}

    def _phone(self, phone_number_id: str | None) -> str:
        pid = phone_number_id or self.phone_number_id
        if not pid:
            raise ValueError("GraphClient needs a phone_number_id (constructor or argument)")
        return self._segment(pid, "phone number id")

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One Graph call → decoded JSON object; any failure → typed channel error."""
        try:
            response = await self._http.request(
                method,
                self.url(path),
                json=json,
                params=params,
                files=files,
                data=data,
                headers=self._auth,
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise error_from_exception(exc) from exc
        if not response.is_success:
            raise error_from_response(response.status_code, response.content)
        try:
            body = response.json()
        except ValueError:
            raise invalid_response_error(f"non-JSON answer to {method} {path}") from None
        if not isinstance(body, dict):
            raise invalid_response_error(f"answer to {method} {path} is not an object")
        return body

    # messages -----------------------------------------------------------------------------------

    async def send_body(
        self,
        to: str | Recipient,
        body: OutboundBody,
        *,
        reply_to: str | None = None,
        biz_opaque_callback_data: str | None = None,
        phone_number_id: str | None = None,
    ) -> SendResult:
        payload = build_message_payload(to, body, reply_to=reply_to, biz_opaque_callback_data=biz_opaque_callback_data)
        answer = await self.request("POST", f"{self._phone(phone_number_id)}/messages", json=payload)
        return self._send_result(answer)

    @staticmethod
    def _send_result(answer: Mapping[str, Any]) -> SendResult:
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        wamid = first.get("id") if isinstance(first, dict) else None
        if not isinstance(wamid, str) or not wamid:
            raise invalid_response_error("send answer has no messages[0].id")
        status = first.get("message_status") if isinstance(first, dict) else None
        contacts = answer.get("contacts")
        contact = contacts[0] if isinstance(contacts, list) and contacts else None
        wa_id = user_id = None
        if isinstance(contact, dict):
            raw_wa = contact.get("wa_id")
            raw_user = contact.get("user_id")
            wa_id = raw_wa.strip() or None if isinstance(raw_wa, str) else None
            user_id = raw_user.strip() or None if isinstance(raw_user, str) else None
        return SendResult(
            provider_message_id=wamid,
            recipient_wa_id=wa_id,
            recipient_user_id=user_id,
            message_status=status if isinstance(status, str) else None,
        )

    async def send_text(
        self,
        to: str | Recipient,
        body: str,
        preview_url: bool | None = None,
        reply_to: str | None = None,
        *,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        return await self.send_body(
            to,
            TextBody(body, preview_url=preview_url),
            reply_to=reply_to,
            biz_opaque_callback_data=biz_opaque_callback_data,
        )

    async def send_media(
        self,
        kind: MediaKind | str,
        to: str | Recipient,
        *,
        media_id: str | None = None,
        link: str | None = None,
        caption: str | None = None,
        filename: str | None = None,
        reply_to: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        try:
            media_kind = MediaKind(kind)
        except ValueError:
            raise validation_error(f"unknown media kind {kind!r}") from None
        body = MediaBody(media_kind, media_id=media_id, link=link, caption=caption, filename=filename)
        return await self.send_body(to, body, reply_to=reply_to, biz_opaque_callback_data=biz_opaque_callback_data)

    async def send_location(
        self,
        to: str | Recipient,
        latitude: float,
        longitude: float,
        *,
        name: str | None = None,
        address: str | None = None,
        reply_to: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        return await self.send_body(
            to,
            LocationBody(latitude, longitude, name=name, address=address),
            reply_to=reply_to,
            biz_opaque_callback_data=biz_opaque_callback_data,
        )

    async def send_contacts(
        self,
        to: str | Recipient,
        contacts: Sequence[Mapping[str, Any]],
        *,
        reply_to: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        return await self.send_body(
            to, ContactsBody(contacts), reply_to=reply_to, biz_opaque_callback_data=biz_opaque_callback_data
        )

    async def send_reaction(
        self,
        to: str | Recipient,
        message_id: str,
        emoji: str | None,
        *,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        """``emoji`` None or "" removes our reaction."""
        return await self.send_body(
            to, ReactionBody(message_id, emoji), biz_opaque_callback_data=biz_opaque_callback_data
        )

    async def send_interactive_buttons(
        self,
        to: str | Recipient,
        body: str,
        buttons: Sequence[ReplyButton],
        *,
        header: str | MediaBody | None = None,
        footer: str | None = None,
        reply_to: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        return await self.send_body(
            to,
            ButtonsBody(body, tuple(buttons), header=header, footer=footer),
            reply_to=reply_to,
            biz_opaque_callback_data=biz_opaque_callback_data,
        )

    async def send_interactive_list(
        self,
        to: str | Recipient,
        body: str,
        button: str,
        sections: Sequence[ListSection],
        *,
        header: str | None = None,
        footer: str | None = None,
        reply_to: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        return await self.send_body(
            to,
            ListBody(body, button, tuple(sections), header=header, footer=footer),
            reply_to=reply_to,
            biz_opaque_callback_data=biz_opaque_callback_data,
        )

    async def send_cta_url(
        self,
        to: str | Recipient,
        body: str,
        display_text: str,
        url: str,
        *,
        header: str | MediaBody | None = None,
        footer: str | None = None,
        reply_to: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        return await self.send_body(
            to,
            CtaUrlBody(body, display_text, url, header=header, footer=footer),
            reply_to=reply_to,
            biz_opaque_callback_data=biz_opaque_callback_data,
        )

    async def send_location_request(
        self,
        to: str | Recipient,
        body: str,
        *,
        reply_to: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        return await self.send_body(
            to,
            LocationRequestBody(body),
            reply_to=reply_to,
            biz_opaque_callback_data=biz_opaque_callback_data,
        )

    async def send_template(
        self,
        to: str | Recipient,
        name: str,
        language: str,
        components: Sequence[TemplateComponent | Mapping[str, Any]] = (),
        *,
        language_policy: str | None = None,
        reply_to: str | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        return await self.send_body(
            to,
            TemplateBody(name, language, tuple(components), language_policy=language_policy),
            reply_to=reply_to,
            biz_opaque_callback_data=biz_opaque_callback_data,
        )

    async def mark_as_read(
        self, message_id: str, typing_indicator: bool = False, *, phone_number_id: str | None = None
    ) -> bool:
        payload = build_mark_read_payload(message_id, typing_indicator=typing_indicator)
        answer = await self.request("POST", f"{self._phone(phone_number_id)}/messages", json=payload)
        return answer.get("success") is True

    # media --------------------------------------------------------------------------------------

    async def upload_media(
        self,
        content: bytes,
        mime_type: str,
        filename: str,
        *,
        phone_number_id: str | None = None,
        ttl_minutes: int | None = None,
    ) -> str:
        """Multipart upload as Meta expects (``messaging_product``, ``file``, ``type``) → media id."""
        if not content:
            raise validation_error("media file is empty")
        if media_kind_for_mime(mime_type) is None:
            raise validation_error(f"mime type {mime_type!r} is not supported by WhatsApp")
        if media_kind_for_mime(mime_type, len(content)) is None:
            limit = max(rule.max_bytes for rule in WHATSAPP_CAPABILITIES.media_types.values() if rule.allows(mime_type))
            raise validation_error(f"media file is larger than {limit} bytes for {mime_type}")
        data = {"messaging_product": "whatsapp", "type": mime_type}
        if ttl_minutes is not None:
            data["ttl_minutes"] = str(ttl_minutes)
        answer = await self.request(
            "POST",
            f"{self._phone(phone_number_id)}/media",
            data=data,
            files={"file": (filename, content, mime_type)},
        )
        media_id = answer.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise invalid_response_error("upload answer has no id")
        return media_id

    async def list_templates(self, waba_id: str, *, page_size: int = 100, max_pages: int = 60) -> list[dict[str, Any]]:
        """Every message template of a WhatsApp Business Account, following the cursor pages."""
        path = f"{self._segment(waba_id, 'business account id')}/message_templates"
        templates: list[dict[str, Any]] = []
        params: dict[str, str] = {"limit": str(page_size)}
        for _page in range(max_pages):
            answer = await self.request("GET", path, params=params)
            data = answer.get("data")
            if not isinstance(data, list):
                raise invalid_response_error("template list has no data array")
            templates.extend(item for item in data if isinstance(item, dict))
            paging = answer.get("paging")
            after = paging.get("cursors", {}).get("after") if isinstance(paging, dict) else None
            if not (isinstance(paging, dict) and paging.get("next") and isinstance(after, str) and after):
                break
            params = {"limit": str(page_size), "after": after}
        return templates

    async def get_media_url(self, media_id: str, *, phone_number_id: str | None = None) -> MediaInfo:
        params = {"phone_number_id": phone_number_id} if phone_number_id else None
        answer = await self.request("GET", self._segment(media_id, "media id"), params=params)
        url = answer.get("url")
        if not isinstance(url, str) or not url:
            raise invalid_response_error("media lookup has no url")
        raw_size = answer.get("file_size")
        size: int | None = None
        if isinstance(raw_size, int) and not isinstance(raw_size, bool):
            size = raw_size
        elif isinstance(raw_size, str) and raw_size.isdigit():
            size = int(raw_size)
        mime = answer.get("mime_type")
        sha = answer.get("sha256")
        rid = answer.get("id")
        return MediaInfo(
            id=rid if isinstance(rid, str) and rid else media_id,
            url=url,
            mime_type=mime if isinstance(mime, str) else None,
            sha256=sha if isinstance(sha, str) else None,
            file_size=size,
        )

    async def download_media(self, url: str, *, max_bytes: int | None = None) -> tuple[bytes, str | None]:
        """GET the media URL with the credential header, following redirects → (bytes, content-type).

        Meta wants the same ``Authorization: Bearer`` token on its lookaside URL; a proxy gets its own header.
        Redirects are followed here so the credential is dropped when one leaves the origin: httpx only
        strips ``Authorization`` itself, never a custom header such as ``D360-API-KEY``.
        """
        cap = self.max_download_bytes if max_bytes is None else max_bytes
        chunks: list[bytes] = []
        total = 0
        try:
            request = self._http.build_request("GET", url, headers=self._auth, timeout=self._timeout)
            for _hop in range(self._http.max_redirects + 1):
                response = await self._http.send(request, stream=True, follow_redirects=False)
                try:
                    redirect = response.next_request
                    if redirect is not None:
                        if not _keeps_credentials(request.url, redirect.url):
                            redirect.headers.pop(self.auth_header, None)
                        request = redirect
                        continue
                    if not response.is_success:
                        raise error_from_response(response.status_code, await response.aread())
                    async for chunk in response.aiter_bytes():
                        total += len(chunk)
                        if total > cap:
                            raise ChannelMediaTooLarge(cap)
                        chunks.append(chunk)
                    content_type = response.headers.get("content-type")
                    return b"".join(chunks), content_type
                finally:
                    await response.aclose()
            raise httpx.TooManyRedirects("media download exceeded the redirect limit", request=request)
        except httpx.HTTPError as exc:
            raise error_from_exception(exc) from exc

    async def fetch_media(
        self, media_id: str, *, phone_number_id: str | None = None, max_bytes: int | None = None
    ) -> MediaBlob:
        """Look the id up, then download; a declared ``file_size`` over ``max_bytes`` is refused before the
        download, and the download stops as soon as it passes the limit."""
        info = await self.get_media_url(media_id, phone_number_id=phone_number_id)
        if max_bytes is not None and info.file_size is not None and info.file_size > max_bytes:
            raise ChannelMediaTooLarge(max_bytes, info.file_size)
        content, content_type = await self.download_media(info.url, max_bytes=max_bytes)
        if not _sha256_matches(info.sha256, content):
            raise error_from_exception(httpx.ReadError("downloaded media does not match its sha256"))
        mime = info.mime_type or (content_type.split(";", 1)[0].strip() if content_type else None)
        return MediaBlob(
            content=content,
            mime_type=mime or "application/octet-stream",
            sha256=hashlib.sha256(content).hexdigest(),
            filename=None,
        )

    async def delete_media(self, media_id: str, *, phone_number_id: str | None = None) -> bool:
        params = {"phone_number_id": phone_number_id} if phone_number_id else None
        answer = await self.request("DELETE", self._segment(media_id, "media id"), params=params)
        return answer.get("success") is True
