"""Inbound media through the signed webhook: looked up (GET /{media-id}), downloaded with the token in a job,
checked (declared and actual size, type sniffed from the bytes), stored with its SHA-256; transient failures
retried with backoff, refusals and permanent failures recorded on the attachment for the inbox to show."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

import mostrador.media.service as media_service
from factories import World, make_world, messages_body
from graph_double import GraphDouble
from mostrador.channels.base import ChannelRetriableError
from mostrador.channels.whatsapp.signature import sign
from mostrador.media.service import MAX_FETCH_ATTEMPTS, media
from mostrador.media.sniff import compatible, sniff
from mostrador.models import Attachment, AttachmentState, Message
from mostrador.runtime import Runtime
from mostrador.worker.backends import InProcessJobBackend
from testenv import APP_SECRET

MB = 1024 * 1024
IMAGE_LIMIT = 5 * MB  # WhatsApp's cap for images (capabilities)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 8 + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>document.location='https://evil.example'</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"
CHUNK = 256 * 1024


@dataclass
class MediaGraph(GraphDouble):
    """The Graph double with per-file bodies and declared sizes, scripted failures ('ok', an HTTP status or
    'timeout') for the lookup and the download, and a count of the bytes each download really served."""

    files: dict[str, bytes] = field(default_factory=dict)
    declared_size: dict[str, int] = field(default_factory=dict)
    lookup_script: list[str] = field(default_factory=list)
    download_script: list[str] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    served: dict[str, int] = field(default_factory=dict)

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.headers.get("authorization") != "Bearer test-access-token" or path.endswith(
            ("/messages", "/message_templates")
        ):
            return super().handler(request)
        media_id = path.rsplit("/", 1)[-1]
        download = path.startswith("/download/")
        if not download:
            self.lookups.append(media_id)
        script = self.download_script if download else self.lookup_script
        step = script.pop(0) if script else "ok"
        if step == "timeout":
            raise httpx.ReadTimeout("no answer", request=request)
        if step != "ok":
            return httpx.Response(int(step), text="Service Unavailable")
        body = self.files.get(media_id)
        if body is None:
            return super().handler(request)
        if download:
            self.downloads.append(media_id)
            mime = self.media_mime.get(media_id, "image/jpeg")
            return httpx.Response(200, content=self._stream(media_id, body), headers={"content-type": mime})
        if self.fail_media_with is not None:
            return super().handler(request)
        answer = {
            "messaging_product": "whatsapp",
            "url": f"http://graph.test/download/{media_id}",
            "mime_type": self.media_mime.get(media_id, "image/jpeg"),
            "sha256": hashlib.sha256(body).hexdigest(),
            "file_size": self.declared_size.get(media_id, len(body)),
            "id": media_id,
        }
        return httpx.Response(200, json=answer)

    async def _stream(self, media_id: str, body: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(body), CHUNK):
            chunk = body[start : start + CHUNK]
            self.served[media_id] = self.served.get(media_id, 0) + len(chunk)
            yield chunk


def media_webhook(kind: str, media: dict[str, Any], wamid: str = "wamid.M1", wa_id: str = "5215512345678") -> bytes:
    message = {"from": wa_id, "id": wamid, "timestamp": "1763880000", "type": kind, kind: media}
    return messages_body([message], [{"profile": {"name": "Ana Martínez"}, "wa_id": wa_id}])


@pytest.fixture
async def world(runtime: Runtime) -> World:
    return await make_world(runtime)


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff each retry asked for; the retry itself runs at once so the test does not wait."""
    asked: list[float] = []
    real = media_service.retry_delay

    def record(attempts: int, error: ChannelRetriableError) -> float:
        asked.append(real(attempts, error))
        return 0.0

    monkeypatch.setattr(media_service, "retry_delay", record)
    return asked


async def receive(
    client: httpx.AsyncClient,
    runtime: Runtime,
    jobs: InProcessJobBackend,
    graph: MediaGraph,
    kind: str,
    media_spec: dict[str, Any],
) -> Attachment:
    """Post the signed webhook, run every job (downloads and their retries included), return the attachment."""
    runtime.graph_transport = graph.transport
    body = media_webhook(kind, media_spec)
    response = await client.post(
        "/webhooks/whatsapp",
        content=body,
        headers={"content-type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)},
    )
    assert response.status_code == 200, response.text
    await jobs.drain()
    async with runtime.unit_of_work() as session:
        return (await session.execute(select(Attachment))).scalar_one()


def stored_files(runtime: Runtime) -> list[Path]:
    root = runtime.settings.resolved_media_dir
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def image(media_id: str = "media-1", mime: str = "image/jpeg") -> dict[str, Any]:
    return {"id": media_id, "mime_type": mime, "sha256": "meta-digest"}


class TestStored:
    async def test_photo_is_stored_with_its_sha256(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        graph = MediaGraph(files={"media-1": JPEG})

        attachment = await receive(client, runtime, jobs, graph, "image", image())

        assert attachment.state is AttachmentState.stored, attachment.error
        assert (attachment.sha256, attachment.size) == (hashlib.sha256(JPEG).hexdigest(), len(JPEG))
        assert attachment.mime_type == "image/jpeg" and attachment.error is None and attachment.attempts == 1
        assert attachment.storage_key and hashlib.sha256(JPEG).hexdigest() in attachment.storage_key
        assert await runtime.media.get(attachment.storage_key) == JPEG
        assert graph.lookups == ["media-1"] and graph.downloads == ["media-1"]

    async def test_type_comes_from_the_bytes_when_none_was_declared(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        graph = MediaGraph(files={"doc-1": PDF}, media_mime={"doc-1": "application/octet-stream"})
        spec = {"id": "doc-1", "mime_type": "application/octet-stream", "filename": "factura"}

        attachment = await receive(client, runtime, jobs, graph, "document", spec)

        assert attachment.state is AttachmentState.stored, attachment.error
        assert attachment.mime_type == "application/pdf"  # sniffed: "%PDF-"
        assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
        assert attachment.storage_key and attachment.storage_key.endswith(".pdf")
        assert await runtime.media.get(attachment.storage_key) == PDF

    async def test_audio_in_an_mp4_with_a_video_brand_is_kept_as_audio(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        """An .m4a recorded on many phones says 'isom' (an MP4 brand), not 'M4A ': the container is the same."""
        m4a = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2mp41" + bytes(64)
        graph = MediaGraph(files={"audio-1": m4a}, media_mime={"audio-1": "audio/mp4"})

        attachment = await receive(client, runtime, jobs, graph, "audio", {"id": "audio-1", "mime_type": "audio/mp4"})

        assert attachment.state is AttachmentState.stored, attachment.error
        assert attachment.mime_type == "audio/mp4"


class TestRefused:
    async def test_declared_size_over_the_limit_is_refused_without_downloading(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        graph = MediaGraph(files={"media-1": JPEG}, declared_size={"media-1": IMAGE_LIMIT + 1})

        attachment = await receive(client, runtime, jobs, graph, "image", image())

        assert attachment.state is AttachmentState.failed
        assert attachment.error and attachment.error.startswith("too large")
        assert str(IMAGE_LIMIT + 1) in attachment.error and "not downloaded" in attachment.error
        assert graph.downloads == [] and graph.served == {}
        assert graph.lookups == ["media-1"] and attachment.attempts == 1  # refused for good, never retried
        assert attachment.storage_key is None and stored_files(runtime) == []

    async def test_download_is_stopped_as_soon_as_it_passes_the_limit(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        huge = JPEG + b"\x00" * (20 * MB)  # the lookup says a few KB; the body keeps coming
        graph = MediaGraph(files={"media-1": huge}, declared_size={"media-1": len(JPEG)})

        attachment = await receive(client, runtime, jobs, graph, "image", image())

        assert attachment.state is AttachmentState.failed
        assert attachment.error and attachment.error.startswith("too large") and "download stopped" in attachment.error
        assert graph.downloads == ["media-1"]
        assert IMAGE_LIMIT < graph.served["media-1"] <= IMAGE_LIMIT + 2 * CHUNK  # not the 20 MB
        assert graph.lookups == ["media-1"] and attachment.attempts == 1
        assert attachment.storage_key is None and stored_files(runtime) == []

    @pytest.mark.parametrize(
        ("kind", "declared", "content"),
        [
            pytest.param("image", "image/jpeg", HTML, id="html-as-jpeg"),
            pytest.param("image", "image/jpeg", EXE, id="exe-as-jpeg"),
            pytest.param("image", "image/jpeg", PDF, id="pdf-as-jpeg"),
            pytest.param("document", "application/pdf", HTML, id="html-as-pdf"),
        ],
    )
    async def test_content_that_is_not_the_declared_type_is_refused(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        jobs: InProcessJobBackend,
        world: World,
        kind: str,
        declared: str,
        content: bytes,
    ) -> None:
        graph = MediaGraph(files={"media-1": content}, media_mime={"media-1": declared})

        attachment = await receive(client, runtime, jobs, graph, kind, image(mime=declared))

        assert attachment.state is AttachmentState.failed
        assert attachment.error and attachment.error.startswith("type mismatch"), attachment.error
        assert declared in attachment.error
        assert attachment.attempts == 1 and graph.downloads == ["media-1"]
        assert attachment.storage_key is None and stored_files(runtime) == []


class TestFailures:
    async def test_transient_failures_are_retried_with_backoff_then_stored(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        jobs: InProcessJobBackend,
        world: World,
        delays: list[float],
    ) -> None:
        # 1st try: the lookup answers 503; 2nd: the download times out; 3rd: everything works.
        graph = MediaGraph(files={"media-1": JPEG}, lookup_script=["503"], download_script=["timeout"])

        attachment = await receive(client, runtime, jobs, graph, "image", image())

        assert attachment.state is AttachmentState.stored, attachment.error
        assert attachment.attempts == 3 and attachment.error is None
        assert attachment.sha256 == hashlib.sha256(JPEG).hexdigest()
        assert graph.lookups == ["media-1"] * 3 and graph.downloads == ["media-1"]  # the timed-out one never served
        # each error's own backoff, doubled per earlier try: a 5xx waits 5 s first, a timeout 2 s doubled once
        assert delays == [5.0, 4.0]

    async def test_transient_failures_give_up_after_the_last_attempt(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        jobs: InProcessJobBackend,
        world: World,
        delays: list[float],
    ) -> None:
        graph = MediaGraph(files={"media-1": JPEG}, lookup_script=["503"] * (MAX_FETCH_ATTEMPTS + 3))

        attachment = await receive(client, runtime, jobs, graph, "image", image())

        assert attachment.state is AttachmentState.failed
        assert attachment.error and attachment.error.startswith(f"gave up after {MAX_FETCH_ATTEMPTS} attempts")
        assert "503" in attachment.error
        assert attachment.attempts == MAX_FETCH_ATTEMPTS and len(graph.lookups) == MAX_FETCH_ATTEMPTS
        assert len(delays) == MAX_FETCH_ATTEMPTS - 1
        assert delays == sorted(delays) and delays[-1] >= 4 * delays[0]  # exponential backoff
        assert graph.downloads == [] and stored_files(runtime) == []

    async def test_permanent_failure_is_recorded_at_once_and_shown_in_the_inbox(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        # Graph's answer for an unknown or expired media id: (#100) invalid parameter, not worth retrying.
        graph = MediaGraph(fail_media_with=100)

        attachment = await receive(client, runtime, jobs, graph, "image", image("media-gone"))

        assert attachment.state is AttachmentState.failed
        assert attachment.error and attachment.error.startswith("download failed") and "code 100" in attachment.error
        assert attachment.attempts == 1 and graph.lookups == ["media-gone"] and graph.downloads == []

        async with runtime.unit_of_work() as session:
            conversation_id = (
                await session.execute(select(Message.conversation_id).where(Message.id == attachment.message_id))
            ).scalar_one()
        await sign_in(client, world)
        page = await client.get(f"/conversations/{conversation_id}")
        assert page.status_code == 200
        failed = re.search(r'<div class="media media--failed" title="([^"]*)"', page.text)
        assert failed and failed.group(1) == attachment.error

    async def test_a_download_that_keeps_crashing_is_not_retried_for_ever(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        # The job gave up on earlier crashes; the sweeper rings it again: it is failed, not tried once more.
        graph = MediaGraph(files={"media-1": JPEG})
        attachment = await receive(client, runtime, jobs, graph, "image", image())
        async with runtime.unit_of_work() as session:
            row = await session.get(Attachment, attachment.id)
            assert row is not None
            row.state, row.attempts, row.error = AttachmentState.pending, MAX_FETCH_ATTEMPTS, "RuntimeError('boom')"

        await media.fetch(runtime, attachment.id)

        async with runtime.unit_of_work() as session:
            row = await session.get(Attachment, attachment.id)
            assert row is not None
            assert row.state is AttachmentState.failed and row.attempts == MAX_FETCH_ATTEMPTS
            assert row.error == f"gave up after {MAX_FETCH_ATTEMPTS} attempts: RuntimeError('boom')"
        assert graph.lookups == ["media-1"]  # the setup's only: the provider was not asked again


async def sign_in(client: httpx.AsyncClient, world: World) -> None:
    csrf = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
    page = await client.get("/login")
    token = csrf.search(page.text)
    assert token
    response = await client.post(
        "/login",
        data={"email": world.admin.email, "password": "correct horse", "csrf_token": token.group(1), "next": "/"},
    )
    assert response.status_code == 303, response.text[:300]


@pytest.mark.parametrize(
    ("head", "sniffed"),
    [
        (b"\xff\xf1\x50\x80", "audio/aac"),  # ADTS, no CRC
        (b"\xff\xf0\x50\x80", "audio/aac"),  # ADTS with CRC
        (b"\xff\xf9\x50\x80", "audio/aac"),  # MPEG-2 ADTS
        (b"\xff\xfb\x90\x64", "audio/mpeg"),  # MP3
        (b"\xff\xfa\x90\x64", "audio/mpeg"),  # MP3 with CRC
        (b"\xff\xe3\x18\xc4", "audio/mpeg"),  # MPEG-2.5 layer III
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
    ],
)
def test_audio_frames_are_told_from_each_other_and_from_jpeg(head: bytes, sniffed: str) -> None:
    assert sniff(head + bytes(60)) == sniffed


@pytest.mark.parametrize(("brand", "declared"), [(b"qt  ", "video/quicktime"), (b"heic", "image/heic")])
def test_iso_files_of_other_brands_are_what_they_say(brand: bytes, declared: str) -> None:
    assert compatible(declared, sniff(b"\x00\x00\x00\x18ftyp" + brand + bytes(52)))
