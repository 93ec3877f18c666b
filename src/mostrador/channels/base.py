"""Channel-neutral contract: capabilities, normalized events, outbound bodies, errors, adapter Protocol.

Everything here is pure data (frozen dataclasses, no ORM, no I/O). Adapters translate their
provider's wire format into these types; domain code only ever sees these types and asks
``adapter.capabilities`` instead of branching on the channel kind.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, TypeAlias, runtime_checkable

from pydantic import BaseModel

__all__ = [
    "AccountEvent",
    "ButtonsBody",
    "ChannelAdapter",
    "ChannelCapabilities",
    "ChannelError",
    "ChannelKind",
    "ChannelMediaTooLarge",
    "ChannelPermanentError",
    "ChannelRetriableError",
    "ContactsBody",
    "CouponCodeParam",
    "CtaUrlBody",
    "CurrencyParam",
    "DateTimeParam",
    "DeliveryStatus",
    "ErrorCategory",
    "InboundEvent",
    "InboundMessage",
    "ListBody",
    "ListRow",
    "ListSection",
    "LocationBody",
    "LocationParam",
    "LocationRequestBody",
    "MediaBlob",
    "MediaBody",
    "MediaKind",
    "MediaParam",
    "MediaRule",
    "MessageType",
    "OutboundBody",
    "OutboundMessage",
    "OutboundType",
    "PayloadParam",
    "PreferenceValue",
    "ProviderError",
    "ProviderErrorEvent",
    "RawBody",
    "ReactionBody",
    "Recipient",
    "ReplyButton",
    "RequestVerificationError",
    "SendResult",
    "SenderIdentity",
    "SignatureInvalid",
    "SignatureMissing",
    "StatusUpdate",
    "TemplateBody",
    "TemplateComponent",
    "TemplateParameter",
    "TemplateStatusUpdate",
    "TextBody",
    "TextParam",
    "Throttle",
    "UnreadableEvent",
    "UserPreferenceUpdate",
    "WebhookShapeError",
    "normalize_locale",
]

JSONDict: TypeAlias = dict[str, Any]


class ChannelKind(StrEnum):
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    WEBCHAT = "webchat"
    SMS = "sms"
    FAKE = "fake"


class MediaKind(StrEnum):
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"


@dataclass(frozen=True)
class MediaRule:
    """Allowed mime types (compared without parameters such as ``; codecs=opus``) and size cap.

    ``still_max_bytes``: a smaller cap for files that are not animated (WhatsApp stickers: 100 KB static, 500 KB
    animated). ``codecs``: (mime type, codec) pairs; a mime type listed there is only accepted with one of its
    codecs (WhatsApp plays ``audio/ogg`` only with Opus).
    """

    mime_types: frozenset[str]
    max_bytes: int
    still_max_bytes: int | None = None
    codecs: frozenset[tuple[str, str]] = frozenset()

    def allows(self, mime_type: str, size: int | None = None) -> bool:
        base = mime_type.split(";", 1)[0].strip().lower()
        if base not in self.mime_types:
            return False
        return size is None or 0 <= size <= self.max_bytes

    def limit(self, *, animated: bool = True) -> int:
        """The size cap for one file; ``animated=False`` applies ``still_max_bytes`` when there is one."""
        if not animated and self.still_max_bytes is not None:
            return min(self.still_max_bytes, self.max_bytes)
        return self.max_bytes

    def codecs_for(self, mime_type: str) -> frozenset[str]:
        """The codecs required for ``mime_type`` (empty: any)."""
        base = mime_type.split(";", 1)[0].strip().lower()
        return frozenset(codec for mime, codec in self.codecs if mime == base)


@dataclass(frozen=True)
class ChannelCapabilities:
    reply_window: timedelta | None
    supports_templates: bool
    supports_interactive: bool
    media_types: Mapping[MediaKind, MediaRule]
    max_text_length: int
    supports_read_receipts: bool
    supports_typing: bool
    # Which outbound media kinds may carry a caption, and how long it may be.
    caption_kinds: frozenset[MediaKind] = frozenset()
    max_caption_length: int = 0
    # Which media kinds a template header may be (the template itself says which one it needs).
    template_header_kinds: frozenset[MediaKind] = frozenset()
    # How long the provider keeps a file we uploaded (its id stops working after that); None: for ever.
    uploaded_media_lifetime: timedelta | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "media_types", MappingProxyType(dict(self.media_types)))

    def media_rule(self, kind: MediaKind | str) -> MediaRule | None:
        try:
            return self.media_types.get(MediaKind(kind))
        except ValueError:
            return None

    def media_kind_for(self, mime_type: str, kinds: Collection[MediaKind] | None = None) -> MediaKind | None:
        """The first media kind (of ``kinds``, default all) whose rule accepts ``mime_type``, whatever its size."""
        for kind, rule in self.media_types.items():
            if (kinds is None or kind in kinds) and rule.allows(mime_type):
                return kind
        return None


# --------------------------------------------------------------------------------------------------
# Inbound events
# --------------------------------------------------------------------------------------------------


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    REACTION = "reaction"
    ORDER = "order"
    SYSTEM = "system"
    UNSUPPORTED = "unsupported"
    REVOKE = "revoke"
    EDIT = "edit"
    UNKNOWN = "unknown"


class DeliveryStatus(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    PLAYED = "played"
    DELETED = "deleted"
    UNKNOWN = "unknown"


class PreferenceValue(StrEnum):
    STOP = "stop"
    RESUME = "resume"
    SIGNUP = "signup"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ProviderError:
    code: int
    title: str | None = None
    message: str | None = None
    details: str | None = None
    href: str | None = None


@dataclass(frozen=True)
class SenderIdentity:
    """Who sent an inbound message. ``wa_id`` (phone digits) and/or ``user_id`` (BSUID) is set."""

    wa_id: str | None
    user_id: str | None = None
    profile_name: str | None = None
    username: str | None = None
    parent_user_id: str | None = None
    country_code: str | None = None

    @property
    def key(self) -> str:
        """Stable identity key: the BSUID when known, else the phone ``wa_id``."""
        return self.user_id or self.wa_id or ""


@dataclass(frozen=True)
class InboundMessage:
    channel_account_id: str
    provider_message_id: str
    sender: SenderIdentity
    timestamp: datetime | None
    message_type: MessageType
    provider_type: str
    text: str | None = None
    content: JSONDict = dc_field(default_factory=dict)
    reply_to_provider_id: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    referral: JSONDict | None = None
    referred_product: JSONDict | None = None
    identity: JSONDict | None = None
    errors: tuple[ProviderError, ...] = ()
    account_id: str | None = None
    display_phone_number: str | None = None


@dataclass(frozen=True)
class StatusUpdate:
    channel_account_id: str
    provider_message_id: str
    status: DeliveryStatus
    provider_status: str
    timestamp: datetime | None
    recipient_wa_id: str | None = None
    recipient_user_id: str | None = None
    errors: tuple[ProviderError, ...] = ()
    pricing: JSONDict | None = None
    conversation: JSONDict | None = None
    biz_opaque_callback_data: str | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class TemplateStatusUpdate:
    """Any template webhook: status, quality, category or components update (see ``field``)."""

    field: str
    account_id: str | None
    template_id: str
    template_name: str | None
    language: str | None
    event: str | None = None
    reason: str | None = None
    category: str | None = None
    previous_quality_score: str | None = None
    new_quality_score: str | None = None
    previous_category: str | None = None
    new_category: str | None = None
    rejection_info: JSONDict | None = None
    event_time: datetime | None = None
    value: JSONDict = dc_field(default_factory=dict)


@dataclass(frozen=True)
class AccountEvent:
    """Account-level or unrecognised webhook change; ``value`` is the raw change value."""

    field: str
    account_id: str | None
    value: Any
    event: str | None = None
    event_time: datetime | None = None
    channel_account_id: str | None = None


@dataclass(frozen=True)
class UserPreferenceUpdate:
    channel_account_id: str | None
    account_id: str | None
    wa_id: str | None
    user_id: str | None
    category: str | None
    value: PreferenceValue
    provider_value: str
    detail: str | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True)
class ProviderErrorEvent:
    """A value-level ``errors[]`` item (e.g. 131000 "Unsupported webhook payload")."""

    field: str
    channel_account_id: str | None
    account_id: str | None
    error: ProviderError


@dataclass(frozen=True)
class UnreadableEvent:
    """One item of a body (a change, a message, a status) we could not interpret. Its siblings are still
    applied; the stored body keeps it for a replay once the parser learns its shape."""

    field: str
    path: str
    reason: str
    channel_account_id: str | None = None
    account_id: str | None = None


InboundEvent: TypeAlias = (
    InboundMessage
    | StatusUpdate
    | TemplateStatusUpdate
    | AccountEvent
    | UserPreferenceUpdate
    | ProviderErrorEvent
    | UnreadableEvent
)


# --------------------------------------------------------------------------------------------------
# Outbound
# --------------------------------------------------------------------------------------------------


class OutboundType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    REACTION = "reaction"
    BUTTONS = "buttons"
    LIST = "list"
    CTA_URL = "cta_url"
    LOCATION_REQUEST = "location_request"
    TEMPLATE = "template"
    RAW = "raw"


@dataclass(frozen=True)
class Recipient:
    """Phone ``wa_id`` and/or ``user_id`` (BSUID). The phone is used when both are known."""

    wa_id: str | None = None
    user_id: str | None = None

    def __post_init__(self) -> None:
        if not self.wa_id and not self.user_id:
            raise ValueError("a recipient needs a wa_id or a user_id")


@dataclass(frozen=True)
class TextBody:
    text: str
    preview_url: bool | None = None


@dataclass(frozen=True)
class MediaBody:
    kind: MediaKind
    media_id: str | None = None
    link: str | None = None
    caption: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class LocationBody:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class ContactsBody:
    contacts: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class ReactionBody:
    message_id: str
    emoji: str | None  # None or "" removes the reaction


@dataclass(frozen=True)
class ReplyButton:
    id: str
    title: str


@dataclass(frozen=True)
class ButtonsBody:
    body: str
    buttons: Sequence[ReplyButton]
    header: str | MediaBody | None = None
    footer: str | None = None


@dataclass(frozen=True)
class ListRow:
    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True)
class ListSection:
    title: str | None
    rows: Sequence[ListRow]


@dataclass(frozen=True)
class ListBody:
    body: str
    button: str
    sections: Sequence[ListSection]
    header: str | None = None
    footer: str | None = None


@dataclass(frozen=True)
class CtaUrlBody:
    body: str
    display_text: str
    url: str
    header: str | MediaBody | None = None
    footer: str | None = None


@dataclass(frozen=True)
class LocationRequestBody:
    body: str


# Template parameters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextParam:
    text: str
    parameter_name: str | None = None


@dataclass(frozen=True)
class CurrencyParam:
    fallback_value: str
    code: str
    amount_1000: int
    parameter_name: str | None = None


@dataclass(frozen=True)
class DateTimeParam:
    fallback_value: str
    extra: Mapping[str, Any] = dc_field(default_factory=dict)  # legacy day_of_week/year/... fields
    parameter_name: str | None = None


@dataclass(frozen=True)
class MediaParam:
    kind: MediaKind  # image, video or document (header)
    media_id: str | None = None
    link: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class LocationParam:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class PayloadParam:
    payload: str


@dataclass(frozen=True)
class CouponCodeParam:
    coupon_code: str


TemplateParameter: TypeAlias = (
    TextParam
    | CurrencyParam
    | DateTimeParam
    | MediaParam
    | LocationParam
    | PayloadParam
    | CouponCodeParam
    | Mapping[str, Any]
)


@dataclass(frozen=True)
class TemplateComponent:
    """``type`` is header, body or button; buttons also carry ``sub_type`` and ``index``."""

    type: str
    parameters: Sequence[TemplateParameter] = ()
    sub_type: str | None = None
    index: int | None = None


@dataclass(frozen=True)
class TemplateBody:
    name: str
    language: str
    components: Sequence[TemplateComponent | Mapping[str, Any]] = ()
    language_policy: str | None = None


@dataclass(frozen=True)
class RawBody:
    """Escape hatch: ``type`` plus the provider object for it, sent as is."""

    type: str
    payload: Any


OutboundBody: TypeAlias = (
    TextBody
    | MediaBody
    | LocationBody
    | ContactsBody
    | ReactionBody
    | ButtonsBody
    | ListBody
    | CtaUrlBody
    | LocationRequestBody
    | TemplateBody
    | RawBody
)


def _outbound_type(body: OutboundBody) -> OutboundType:
    if isinstance(body, MediaBody):
        return OutboundType(body.kind.value)
    mapping: dict[type[Any], OutboundType] = {
        TextBody: OutboundType.TEXT,
        LocationBody: OutboundType.LOCATION,
        ContactsBody: OutboundType.CONTACTS,
        ReactionBody: OutboundType.REACTION,
        ButtonsBody: OutboundType.BUTTONS,
        ListBody: OutboundType.LIST,
        CtaUrlBody: OutboundType.CTA_URL,
        LocationRequestBody: OutboundType.LOCATION_REQUEST,
        TemplateBody: OutboundType.TEMPLATE,
        RawBody: OutboundType.RAW,
    }
    return mapping[type(body)]


@dataclass(frozen=True)
class OutboundMessage:
    to: Recipient
    body: OutboundBody
    reply_to: str | None = None
    biz_opaque_callback_data: str | None = None
    idempotency_key: str | None = None

    @property
    def type(self) -> OutboundType:
        return _outbound_type(self.body)


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    recipient_wa_id: str | None = None
    recipient_user_id: str | None = None
    message_status: str | None = None  # accepted | held_for_quality_assessment | paused | None (legacy)


@dataclass(frozen=True)
class MediaBlob:
    content: bytes
    mime_type: str
    sha256: str  # hex digest of ``content``
    filename: str | None = None


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class ErrorCategory(StrEnum):
    AUTH = "auth"
    THROTTLE = "throttle"
    INTEGRITY = "integrity"
    SERVER = "server"
    REQUEST = "request"
    SEND = "send"
    TEMPLATE = "template"
    TEMPLATE_MANAGEMENT = "template_management"
    TRANSPORT = "transport"
    VALIDATION = "validation"
    UNKNOWN = "unknown"


class Throttle(StrEnum):
    """Which of the provider's rate limits a throttling error says we hit."""

    SENDER = "sender"  # the sending number's (or account's) rate: every message from it should wait
    RECIPIENT = "recipient"  # the rate to one recipient: only messages to them should wait


SUPPORTED_LOCALES = ("es", "en", "pt")


def normalize_locale(locale: str | None) -> str:
    """``"es-AR"``/``"pt_BR"``/``"EN"`` → ``es``/``pt``/``en``; anything else → ``en``."""
    lang = (locale or "").replace("_", "-").split("-", 1)[0].strip().lower()
    return lang if lang in SUPPORTED_LOCALES else "en"


class ChannelError(Exception):
    """Base for send/media/API failures. ``reasons`` maps locale → short text for agents."""

    retriable: ClassVar[bool] = False
    _generic: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "es": "El canal rechazó la operación (código {code}).",
            "en": "The channel rejected the operation (code {code}).",
            "pt": "O canal rejeitou a operação (código {code}).",
        }
    )

    def __init__(
        self,
        code: int,
        title: str,
        details: str | None = None,
        *,
        category: ErrorCategory = ErrorCategory.UNKNOWN,
        reasons: Mapping[str, str] | None = None,
        http_status: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str | None = None,
        local: bool = False,
    ) -> None:
        super().__init__(f"({code}) {title}" + (f": {details}" if details else ""))
        self.code = code
        self.title = title
        self.details = details
        self.category = category
        self.reasons: Mapping[str, str] = MappingProxyType(dict(reasons or {}))
        self.http_status = http_status
        self.subcode = subcode
        self.fbtrace_id = fbtrace_id
        self.local = local

    def human_reason(self, locale: str = "es") -> str:
        lang = normalize_locale(locale)
        text = self.reasons.get(lang) or self.reasons.get("en")
        if text:
            return text
        return self._generic[lang].format(code=self.code)


class ChannelRetriableError(ChannelError):
    """Temporary failure: try again after ``defer_seconds``, doubling for each further retry up to
    ``max_defer_seconds`` (:meth:`retry_in`). ``throttle``: the provider said we went over one of its limits.
    """

    retriable = True
    _generic = MappingProxyType(
        {
            "es": "Falla temporal del canal (código {code}); se reintentará automáticamente.",
            "en": "Temporary channel failure (code {code}); it will be retried automatically.",
            "pt": "Falha temporária do canal (código {code}); será tentado novamente automaticamente.",
        }
    )

    def __init__(
        self,
        code: int,
        title: str,
        details: str | None = None,
        *,
        defer_seconds: float = 5.0,
        max_defer_seconds: float = 300.0,
        throttle: Throttle | None = None,
        category: ErrorCategory = ErrorCategory.UNKNOWN,
        reasons: Mapping[str, str] | None = None,
        http_status: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str | None = None,
        local: bool = False,
    ) -> None:
        super().__init__(
            code,
            title,
            details,
            category=category,
            reasons=reasons,
            http_status=http_status,
            subcode=subcode,
            fbtrace_id=fbtrace_id,
            local=local,
        )
        self.defer_seconds = defer_seconds
        self.max_defer_seconds = max(defer_seconds, max_defer_seconds)
        self.throttle = throttle

    def retry_in(self, retries: int) -> float:
        """Seconds to wait before the retry that follows ``retries`` earlier ones (exponential, capped)."""
        return float(min(self.defer_seconds * 2 ** min(max(retries, 0), 32), self.max_defer_seconds))


class ChannelPermanentError(ChannelError):
    """Do not retry this exact request automatically.

    ``requires_template``: the conversation window is closed; send an approved template instead.
    ``retry_after_seconds``: a human may try again, but not before this many seconds (e.g. 131049).
    """

    retriable = False
    _generic = MappingProxyType(
        {
            "es": "El canal rechazó el mensaje (código {code}) y no se reintentará.",
            "en": "The channel rejected the message (code {code}); it will not be retried.",
            "pt": "O canal rejeitou a mensagem (código {code}); não será tentado novamente.",
        }
    )

    def __init__(
        self,
        code: int,
        title: str,
        details: str | None = None,
        *,
        requires_template: bool = False,
        retry_after_seconds: int | None = None,
        category: ErrorCategory = ErrorCategory.UNKNOWN,
        reasons: Mapping[str, str] | None = None,
        http_status: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str | None = None,
        local: bool = False,
    ) -> None:
        super().__init__(
            code,
            title,
            details,
            category=category,
            reasons=reasons,
            http_status=http_status,
            subcode=subcode,
            fbtrace_id=fbtrace_id,
            local=local,
        )
        self.requires_template = requires_template
        self.retry_after_seconds = retry_after_seconds


class ChannelMediaTooLarge(ChannelPermanentError):
    """A provider's file is over the caller's ``max_bytes``: refused from its declared size before the download
    (``size`` known) or as soon as the download passed the limit (``size`` None)."""

    def __init__(self, limit: int, size: int | None = None) -> None:
        known = f"{size} bytes" if size is not None else f"over {limit} bytes"
        super().__init__(
            -5,
            "Media too large",
            f"the file is {known}, the limit is {limit} bytes",
            category=ErrorCategory.VALIDATION,
            local=True,
        )
        self.limit = limit
        self.size = size


class RequestVerificationError(Exception):
    """An inbound webhook request failed authentication; ``http_status`` is the answer to give."""

    http_status: ClassVar[int] = 403


class SignatureMissing(RequestVerificationError):
    http_status = 401


class SignatureInvalid(RequestVerificationError):
    http_status = 403


class WebhookShapeError(ValueError):
    """The webhook body is not a shape we can interpret; store the raw event as failed."""

    def __init__(self, reason: str, path: str = "$") -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason
        self.path = path


# --------------------------------------------------------------------------------------------------
# Adapter Protocol
# --------------------------------------------------------------------------------------------------


@runtime_checkable
class ChannelAdapter(Protocol):
    config_schema: type[BaseModel]  # pydantic model validating the decrypted per-channel config

    @property
    def kind(self) -> ChannelKind: ...

    @property
    def capabilities(self) -> ChannelCapabilities: ...

    def verify_request(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise ``RequestVerificationError`` (``SignatureMissing``/``SignatureInvalid``) if not authentic."""
        ...

    def parse_webhook(self, body: bytes) -> list[InboundEvent]:
        """Pure. Raise ``WebhookShapeError`` for bodies that cannot be interpreted."""
        ...

    async def send(self, message: OutboundMessage) -> SendResult: ...

    async def fetch_media(self, media_id: str, *, max_bytes: int | None = None) -> MediaBlob:
        """The file behind a provider's media id; ``ChannelMediaTooLarge`` past ``max_bytes`` (checked against
        the declared size first, so an oversized file is not downloaded at all)."""
        ...

    async def upload_media(self, content: bytes, mime_type: str, filename: str) -> str: ...

    async def mark_read(self, provider_message_id: str, typing: bool = False) -> None: ...
