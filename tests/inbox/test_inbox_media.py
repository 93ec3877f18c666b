"""GET /media/{id}: the right type, inline only for safe image/audio/video, always nosniff, never HTML inline."""

from __future__ import annotations

import pytest
from inboxhelpers import Desk, inbound
from sqlalchemy import select

from mostrador.models import Attachment, AttachmentState, Message


async def stored(desk: Desk, *, mime: str, filename: str | None, data: bytes, kind: str = "document") -> int:
    async with desk.w.runtime.unit_of_work() as session:
        message = (await session.execute(select(Message).order_by(Message.id.desc()).limit(1))).scalar_one()
        key = f"{message.account_id}/tests/{kind}-{len(data)}-{mime.replace('/', '_')}"
        await desk.w.runtime.media.put(key, data)
        attachment = Attachment(
            account_id=message.account_id,
            message_id=message.id,
            kind=kind,
            mime_type=mime,
            filename=filename,
            size=len(data),
            storage_key=key,
            state=AttachmentState.stored,
        )
        session.add(attachment)
        await session.flush()
        return attachment.id


async def test_image_is_inline_with_its_type(desk: Desk) -> None:
    await inbound(desk.w, "image", {"caption": "foto"})
    async with desk.w.runtime.unit_of_work() as session:
        attachment = (await session.execute(select(Attachment))).scalar_one()
    assert attachment.state is AttachmentState.stored
    response = await desk.client.get(f"/media/{attachment.id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == attachment.mime_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in response.headers["content-security-policy"]
    assert len(response.content) == attachment.size
    download = await desk.client.get(f"/media/{attachment.id}", params={"download": "1"})
    assert download.headers["content-disposition"].startswith("attachment;")


async def test_document_downloads_with_its_name(desk: Desk) -> None:
    await inbound(desk.w, "document", {"filename": "factura marzo.pdf"})
    async with desk.w.runtime.unit_of_work() as session:
        attachment = (await session.execute(select(Attachment))).scalar_one()
    response = await desk.client.get(f"/media/{attachment.id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and 'filename="factura marzo.pdf"' in disposition


@pytest.mark.parametrize(
    ("mime", "filename"),
    [
        ("text/html", "<script>x</script>.html"),
        ("image/svg+xml", "dibujo.svg"),
        ("application/xhtml+xml", 'a"b\r\nSet-Cookie: x=1.xhtml'),
        ("text/plain", None),
    ],
)
async def test_active_content_is_never_served_inline(desk: Desk, mime: str, filename: str | None) -> None:
    await inbound(desk.w, "text", "hola")
    attachment_id = await stored(desk, mime=mime, filename=filename, data=b"<html><script>alert(1)</script></html>")
    for params in ({}, {"download": "1"}):
        response = await desk.client.get(f"/media/{attachment_id}", params=params)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "\n" not in response.headers["content-disposition"]
        assert "set-cookie" not in response.headers


async def test_pending_failed_and_unknown_are_404(desk: Desk) -> None:
    await inbound(desk.w, "text", "hola")
    attachment_id = await stored(desk, mime="image/png", filename="x.png", data=b"\x89PNG\r\n\x1a\n", kind="image")
    async with desk.w.runtime.unit_of_work() as session:
        attachment = await session.get(Attachment, attachment_id)
        assert attachment is not None
        attachment.state = AttachmentState.failed
    assert (await desk.client.get(f"/media/{attachment_id}")).status_code == 404
    assert (await desk.client.get("/media/999999")).status_code == 404


async def test_media_needs_a_signed_in_agent(desk: Desk) -> None:
    await inbound(desk.w, "image", {"caption": "foto"})
    async with desk.w.runtime.unit_of_work() as session:
        attachment = (await session.execute(select(Attachment))).scalar_one()
    desk.client.cookies.clear()
    response = await desk.client.get(f"/media/{attachment.id}")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
