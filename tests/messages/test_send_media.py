"""Outbound media through MessageService.send_media and delivery: the policy and channel checks (window, real type
read from the bytes, per-kind size, caption), the content-addressed store, one upload per file, send by media id."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from factories import World, make_world
from jobutil import runner_held
from media_samples import GIF, HTML, OPUS, PDF, PNG, VORBIS, ZIP, Graph, open_conversation, webp
from mostrador.exceptions import MostradorError
from mostrador.kit.time import utc_now
from mostrador.media.errors import MediaTooLarge, MediaTypeRefused
from mostrador.media.service import MediaFile
from mostrador.messages.delivery import delivery
from mostrador.messages.errors import OutsideServiceWindow
from mostrador.messages.service import Sender
from mostrador.messages.service import message as message_service
from mostrador.models import (
    Attachment,
    AttachmentState,
    Contact,
    Conversation,
    Inbox,
    Message,
    MessageStatus,
    SenderKind,
)
from mostrador.runtime import Runtime
from mostrador.worker.backends import InProcessJobBackend


@pytest.fixture
async def world(runtime: Runtime) -> World:
    return await make_world(runtime)


@pytest.fixture
def graph(runtime: Runtime) -> Graph:
    double = Graph()
    runtime.graph_transport = httpx.MockTransport(double.handler)
    return double


async def send(runtime: Runtime, world: World, conversation_id: int, file: MediaFile, *, caption: str = "") -> Message:
    async with runtime.unit_of_work() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        inbox = await session.get(Inbox, conversation.inbox_id)
        contact = await session.get(Contact, conversation.contact_id)
        assert inbox is not None and contact is not None
        return await message_service.send_media(
            session,
            inbox,
            conversation,
            contact,
            Sender(SenderKind.agent, world.admin),
            file,
            store=runtime.media,
            caption=caption,
        )


async def stored(runtime: Runtime, message_id: int) -> tuple[Message, Attachment | None]:
    async with runtime.unit_of_work() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        attachment = (
            await session.execute(select(Attachment).where(Attachment.message_id == message_id))
        ).scalar_one_or_none()
        return message, attachment


async def resend(runtime: Runtime, message_id: int, cid: int) -> None:
    """*Reintentar* on a failed message."""
    async with runtime.unit_of_work() as session:
        message = await session.get(Message, message_id)
        conversation = await session.get(Conversation, cid)
        assert message is not None and conversation is not None
        inbox = await session.get(Inbox, conversation.inbox_id)
        contact = await session.get(Contact, conversation.contact_id)
        assert inbox is not None and contact is not None
        await message_service.resend(session, inbox, conversation, contact, message)


async def counts(runtime: Runtime) -> tuple[int, int]:
    async with runtime.unit_of_work() as session:
        messages = len((await session.execute(select(Message))).scalars().all())
        attachments = len((await session.execute(select(Attachment))).scalars().all())
        return messages, attachments


class TestSendMedia:
    async def test_image_is_stored_uploaded_once_and_sent_by_id(
        self, runtime: Runtime, jobs: InProcessJobBackend, world: World, graph: Graph
    ) -> None:
        cid = await open_conversation(runtime, world)
        async with runner_held(runtime):  # the state before delivery, read before the delivery job may run
            queued = await send(
                runtime, world, cid, MediaFile(PNG, "escaparate.png", "image/png"), caption="¿Te gusta?"
            )
            message, attachment = await stored(runtime, queued.id)
            assert message.type == "image" and message.text == "¿Te gusta?" and message.status is MessageStatus.queued
            assert attachment is not None and attachment.state is AttachmentState.stored
            assert attachment.mime_type == "image/png" and attachment.size == len(PNG)
            assert attachment.provider_media_id is None  # nothing leaves before delivery
            assert attachment.storage_key and await runtime.media.get(attachment.storage_key) == PNG
        await jobs.drain(timeout=30)
        message, attachment = await stored(runtime, queued.id)
        assert message.status is MessageStatus.sent and message.provider_message_id == "wamid.media1"
        assert len(graph.uploads) == 1 and PNG in graph.uploads[0] and b"image/png" in graph.uploads[0]
        assert attachment is not None and attachment.provider_media_id == "media-1"
        assert graph.sends == [
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "34600111222",
                "type": "image",
                "image": {"id": "media-1", "caption": "¿Te gusta?"},
                "biz_opaque_callback_data": message.idempotency_key,
            }
        ]
        assert message.content["provider_payload"]["payload"]["id"] == "media-1"

    async def test_a_retried_send_does_not_upload_again(
        self, runtime: Runtime, jobs: InProcessJobBackend, world: World, graph: Graph
    ) -> None:
        graph.sends_script = ["130429", "ok"]  # throttled once, then accepted
        cid = await open_conversation(runtime, world)
        queued = await send(runtime, world, cid, MediaFile(PDF, "factura marzo.pdf", "application/pdf"))
        await jobs.drain(timeout=30)
        message, _ = await stored(runtime, queued.id)
        assert message.status is MessageStatus.sent and message.attempts == 2
        assert len(graph.uploads) == 1
        ids = [s["document"] for s in graph.sends]
        assert ids == [{"id": "media-1", "filename": "factura marzo.pdf"}] * 2
        assert graph.sends[0]["biz_opaque_callback_data"] == graph.sends[1]["biz_opaque_callback_data"]

    async def test_a_failed_upload_is_retried_not_left_waiting_for_proof(
        self, runtime: Runtime, jobs: InProcessJobBackend, world: World, graph: Graph
    ) -> None:
        # A lost upload answer cannot have reached the customer: it is retried at once, not held in "sending".
        graph.uploads_script = ["timeout", "ok"]
        cid = await open_conversation(runtime, world)
        queued = await send(runtime, world, cid, MediaFile(PNG, "a.png", "image/png"))
        await jobs.drain(timeout=30)
        message, attachment = await stored(runtime, queued.id)
        assert message.status is MessageStatus.sent
        assert len(graph.uploads) == 2 and len(graph.sends) == 1
        assert attachment is not None and attachment.provider_media_id == "media-2"
        assert graph.sends[0]["image"] == {"id": "media-2"}

    async def test_a_refused_upload_fails_the_message_with_the_providers_code(
        self, runtime: Runtime, jobs: InProcessJobBackend, world: World, graph: Graph
    ) -> None:
        graph.uploads_script = ["131053"]
        cid = await open_conversation(runtime, world)
        queued = await send(runtime, world, cid, MediaFile(PNG, "a.png", "image/png"))
        await jobs.drain(timeout=30)
        message, _ = await stored(runtime, queued.id)
        assert message.status is MessageStatus.failed and message.error_code == 131053
        assert graph.sends == []

    async def test_resend_after_a_failure_reuses_the_uploaded_file(
        self, runtime: Runtime, jobs: InProcessJobBackend, world: World, graph: Graph
    ) -> None:
        graph.sends_script = ["131026"]  # undeliverable: permanent
        cid = await open_conversation(runtime, world)
        queued = await send(runtime, world, cid, MediaFile(PNG, "a.png", "image/png"))
        await jobs.drain(timeout=30)
        assert (await stored(runtime, queued.id))[0].status is MessageStatus.failed
        await resend(runtime, queued.id, cid)
        await jobs.drain(timeout=30)
        assert (await stored(runtime, queued.id))[0].status is MessageStatus.sent
        assert len(graph.uploads) == 1 and [s["image"] for s in graph.sends] == [{"id": "media-1"}] * 2

    async def test_resend_weeks_later_uploads_the_file_again(
        self, runtime: Runtime, jobs: InProcessJobBackend, world: World, graph: Graph
    ) -> None:
        """Meta drops uploaded files after 30 days: the old id would fail, so the stored file goes up again."""
        graph.sends_script = ["131026"]
        cid = await open_conversation(runtime, world)
        queued = await send(runtime, world, cid, MediaFile(PNG, "a.png", "image/png"))
        await jobs.drain(timeout=30)
        message, attachment = await stored(runtime, queued.id)
        assert message.status is MessageStatus.failed and message.content["uploaded_media"]["id"] == "media-1"
        weeks_ago = (utc_now() - timedelta(days=29, hours=1)).isoformat()  # inside the day kept as a margin
        async with runtime.unit_of_work() as session:
            content = {**message.content, "uploaded_media": {"id": "media-1", "at": weeks_ago}}
            await session.execute(update(Message).where(Message.id == queued.id).values(content=content))
        await resend(runtime, queued.id, cid)
        await jobs.drain(timeout=30)
        message, attachment = await stored(runtime, queued.id)
        assert message.status is MessageStatus.sent
        assert len(graph.uploads) == 2 and [s["image"] for s in graph.sends] == [{"id": "media-1"}, {"id": "media-2"}]
        assert attachment is not None and attachment.provider_media_id == "media-2"
        assert message.content["uploaded_media"]["id"] == "media-2"

        # uploaded 28 days ago, the id is still good: sent as it is
        fresh = (utc_now() - timedelta(days=28)).isoformat()
        async with runtime.unit_of_work() as session:
            content = {**message.content, "uploaded_media": {"id": "media-2", "at": fresh}}
            failed = {"content": content, "status": MessageStatus.failed}
            await session.execute(update(Message).where(Message.id == queued.id).values(**failed))
        await resend(runtime, queued.id, cid)
        await jobs.drain(timeout=30)
        assert (await stored(runtime, queued.id))[0].status is MessageStatus.sent
        assert len(graph.uploads) == 2 and graph.sends[-1]["image"] == {"id": "media-2"}

    async def test_an_earlier_attempts_old_upload_is_not_reused(
        self, runtime: Runtime, jobs: InProcessJobBackend, world: World, graph: Graph
    ) -> None:
        cid = await open_conversation(runtime, world)
        async with runner_held(runtime):  # the delivery job waits until the month-old upload below is in place
            queued = await send(runtime, world, cid, MediaFile(PNG, "a.png", "image/png"))
            long_ago = utc_now() - timedelta(days=31)
            async with runtime.unit_of_work() as session:  # an attempt uploaded it a month ago, then never sent
                await session.execute(
                    update(Attachment)
                    .where(Attachment.message_id == queued.id)
                    .values(provider_media_id="media-old", updated_at=long_ago)
                )
        await jobs.drain(timeout=30)
        message, attachment = await stored(runtime, queued.id)
        assert message.status is MessageStatus.sent and graph.sends[0]["image"] == {"id": "media-1"}
        assert attachment is not None and attachment.provider_media_id == "media-1"

    async def test_an_upload_overtaken_by_the_sweeper_is_sent_once(
        self, runtime: Runtime, jobs: InProcessJobBackend, world: World, graph: Graph
    ) -> None:
        async def sweeper_takes_over() -> None:  # the upload outlived its grace period
            async with runtime.unit_of_work() as session:
                await session.execute(update(Message).values(next_attempt_at=utc_now() - timedelta(seconds=1)))
                assert await delivery.sweep(session, utc_now()) == 1

        graph.during_upload = sweeper_takes_over
        cid = await open_conversation(runtime, world)
        queued = await send(runtime, world, cid, MediaFile(PNG, "a.png", "image/png"))
        await jobs.drain(timeout=30)
        message, attachment = await stored(runtime, queued.id)
        # Never sent twice: the overtaken attempt stops before sending. (The new attempt may upload again if it
        # claimed the row before the first upload was recorded; that costs a file at Meta, not a message.)
        assert message.status is MessageStatus.sent and message.attempts == 2
        assert len(graph.sends) == 1 and 1 <= len(graph.uploads) <= 2
        assert attachment is not None and graph.sends[0]["image"] == {"id": attachment.provider_media_id}

    async def test_a_missing_file_fails_instead_of_sending(
        self, runtime: Runtime, jobs: InProcessJobBackend, world: World, graph: Graph
    ) -> None:
        cid = await open_conversation(runtime, world)
        async with runner_held(runtime):  # the delivery job waits until the file is gone (it raced the update)
            queued = await send(runtime, world, cid, MediaFile(PNG, "a.png", "image/png"))
            async with runtime.unit_of_work() as session:
                await session.execute(update(Attachment).values(storage_key="1/00/gone.png"))
        await jobs.drain(timeout=30)
        message, _ = await stored(runtime, queued.id)
        assert message.status is MessageStatus.failed and "missing" in (message.error_title or "")
        assert graph.uploads == [] and graph.sends == []


class TestRefusals:
    async def test_closed_window_refuses_and_keeps_nothing(self, runtime: Runtime, world: World, graph: Graph) -> None:
        cid = await open_conversation(runtime, world, window_open=False)
        with pytest.raises(OutsideServiceWindow) as refused:
            await send(runtime, world, cid, MediaFile(PNG, "a.png", "image/png"))
        assert refused.value.status_code == 409
        assert await counts(runtime) == (0, 0)
        assert not runtime.settings.resolved_media_dir.exists() or not any(
            p.is_file() for p in runtime.settings.resolved_media_dir.rglob("*")
        )

    @pytest.mark.parametrize(
        ("content", "name", "declared"),
        [
            (GIF, "animacion.gif", "image/gif"),
            (HTML, "foto.png", "image/png"),  # the browser's word is not enough
            (ZIP, "fotos.zip", "application/zip"),
            (VORBIS, "nota.ogg", "audio/ogg"),  # WhatsApp plays Ogg only with Opus
            (b"\x00\x01\x02 not a known format", "datos.bin", "application/octet-stream"),
        ],
    )
    async def test_types_the_channel_does_not_take_are_refused(
        self, runtime: Runtime, world: World, content: bytes, name: str, declared: str
    ) -> None:
        cid = await open_conversation(runtime, world)
        with pytest.raises(MediaTypeRefused) as refused:
            await send(runtime, world, cid, MediaFile(content, name, declared))
        assert refused.value.status_code == 415 and refused.value.code == "media_type_unsupported"
        assert await counts(runtime) == (0, 0)

    async def test_an_image_over_5_mb_is_refused(self, runtime: Runtime, world: World) -> None:
        cid = await open_conversation(runtime, world)
        big = PNG + b"\x00" * (5 * 1024 * 1024 - len(PNG) + 1)
        with pytest.raises(MediaTooLarge) as refused:
            await send(runtime, world, cid, MediaFile(big, "grande.png", "image/png"))
        assert refused.value.status_code == 413
        assert refused.value.kind is not None and refused.value.kind.value == "image"
        assert refused.value.limit == 5 * 1024 * 1024
        assert await counts(runtime) == (0, 0)

    async def test_a_static_sticker_over_100_kb_is_refused_an_animated_one_is_not(
        self, runtime: Runtime, world: World
    ) -> None:
        cid = await open_conversation(runtime, world)
        with pytest.raises(MediaTooLarge):
            await send(runtime, world, cid, MediaFile(webp(150 * 1024, animated=False), "s.webp", "image/webp"))
        sticker = await send(runtime, world, cid, MediaFile(webp(150 * 1024, animated=True), "s.webp", "image/webp"))
        assert sticker.type == "sticker"

    async def test_audio_and_stickers_take_no_caption(self, runtime: Runtime, world: World) -> None:
        cid = await open_conversation(runtime, world)
        with pytest.raises(MostradorError) as refused:
            await send(runtime, world, cid, MediaFile(OPUS, "nota.ogg", "audio/ogg"), caption="escúchalo")
        assert refused.value.code == "caption_not_allowed" and refused.value.status_code == 422
        voice = await send(runtime, world, cid, MediaFile(OPUS, "nota.ogg", "audio/ogg"))
        assert voice.type == "audio" and voice.content["mime_type"] == "audio/ogg"

    async def test_a_caption_longer_than_1024_is_refused(self, runtime: Runtime, world: World) -> None:
        cid = await open_conversation(runtime, world)
        with pytest.raises(MostradorError) as refused:
            await send(runtime, world, cid, MediaFile(PNG, "a.png", "image/png"), caption="x" * 1025)
        assert refused.value.code == "caption_too_long"


class TestRealType:
    @pytest.mark.parametrize(
        ("content", "name", "declared", "kind", "mime"),
        [
            (PDF, "foto.jpg", "image/jpeg", "document", "application/pdf"),
            (PNG, "contrato.pdf", "application/pdf", "image", "image/png"),
            (OPUS, "voz.bin", None, "audio", "audio/ogg"),
            (b"Hola,\nlista de precios\n", "precios.txt", "text/plain", "document", "text/plain"),
            (
                ZIP,
                "presupuesto.docx",
                "application/octet-stream",
                "document",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
        ],
    )
    async def test_the_kind_comes_from_the_bytes(
        self, runtime: Runtime, world: World, content: bytes, name: str, declared: str | None, kind: str, mime: str
    ) -> None:
        cid = await open_conversation(runtime, world)
        message = await send(runtime, world, cid, MediaFile(content, name, declared))
        _, attachment = await stored(runtime, message.id)
        assert message.type == kind
        assert attachment is not None and attachment.kind == kind and attachment.mime_type == mime
        payload = message.content["provider_payload"]
        assert payload["type"] == kind
        if kind == "document":
            assert payload["payload"]["filename"] == name

    async def test_the_same_file_twice_is_stored_once(self, runtime: Runtime, world: World) -> None:
        cid = await open_conversation(runtime, world)
        first = await send(runtime, world, cid, MediaFile(PNG, "a.png", "image/png"))
        second = await send(runtime, world, cid, MediaFile(PNG, "b.png", "image/png"))
        _, a = await stored(runtime, first.id)
        _, b = await stored(runtime, second.id)
        assert a is not None and b is not None and a.id != b.id
        assert a.storage_key == b.storage_key and a.filename == "a.png" and b.filename == "b.png"
