"""Channel-neutral contract types."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from mostrador.channels.base import (
    ChannelPermanentError,
    ChannelRetriableError,
    ContactsBody,
    CtaUrlBody,
    ListBody,
    ListRow,
    ListSection,
    LocationBody,
    LocationRequestBody,
    MediaBody,
    MediaKind,
    OutboundMessage,
    OutboundType,
    RawBody,
    ReactionBody,
    Recipient,
    SenderIdentity,
    TemplateBody,
    TextBody,
    normalize_locale,
)


def test_recipient_needs_an_identity() -> None:
    with pytest.raises(ValueError):
        Recipient()
    assert Recipient(user_id="user.1").wa_id is None


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (TextBody("x"), OutboundType.TEXT),
        (MediaBody(MediaKind.STICKER, media_id="1"), OutboundType.STICKER),
        (MediaBody(MediaKind.DOCUMENT, media_id="1"), OutboundType.DOCUMENT),
        (LocationBody(1, 2), OutboundType.LOCATION),
        (ContactsBody([]), OutboundType.CONTACTS),
        (ReactionBody("w", None), OutboundType.REACTION),
        (ListBody("b", "l", [ListSection(None, [ListRow("1", "t")])]), OutboundType.LIST),
        (CtaUrlBody("b", "d", "https://e"), OutboundType.CTA_URL),
        (LocationRequestBody("b"), OutboundType.LOCATION_REQUEST),
        (TemplateBody("n", "es"), OutboundType.TEMPLATE),
        (RawBody("poll", {}), OutboundType.RAW),
    ],
)
def test_outbound_type_follows_body(body: object, kind: OutboundType) -> None:
    msg = OutboundMessage(to=Recipient(wa_id="1"), body=body)  # type: ignore[arg-type]
    assert msg.type is kind


def test_events_are_frozen() -> None:
    sender = SenderIdentity(wa_id="1")
    with pytest.raises(FrozenInstanceError):
        sender.wa_id = "2"  # type: ignore[misc]
    assert sender.key == "1"
    assert SenderIdentity(wa_id="1", user_id="user.1").key == "user.1"


@pytest.mark.parametrize(
    ("locale", "lang"), [("es", "es"), ("es-AR", "es"), ("pt_BR", "pt"), ("EN", "en"), ("de", "en"), (None, "en")]
)
def test_normalize_locale(locale: str | None, lang: str) -> None:
    assert normalize_locale(locale) == lang


def test_error_attributes() -> None:
    retry = ChannelRetriableError(130429, "Rate limit", "details", defer_seconds=3)
    perm = ChannelPermanentError(131047, "Re-engagement", requires_template=True, retry_after_seconds=None)
    assert (retry.code, retry.title, retry.details, retry.defer_seconds, retry.retriable) == (
        130429,
        "Rate limit",
        "details",
        3,
        True,
    )
    assert (perm.requires_template, perm.retriable, perm.local) == (True, False, False)
    assert str(retry) == "(130429) Rate limit: details"
    custom = ChannelPermanentError(1, "t", reasons={"es": "hola", "en": "hello"})
    assert custom.human_reason("es") == "hola"
    assert custom.human_reason("pt") == "hello"  # falls back to English when a language is missing
