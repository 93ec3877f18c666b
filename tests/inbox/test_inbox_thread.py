"""The conversation view renders every message type the channel parses, escaped, with ticks and history paging."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from inboxhelpers import Desk, htmx, inbound
from sqlalchemy import func, select, update

from mostrador.channels.whatsapp.signature import sign
from mostrador.kit.time import utc_now
from mostrador.models import Attachment, AttachmentState, Conversation, Direction, Message, MessageStatus, SenderKind
from sim_wiring import PHONE_NUMBER_ID
from wa_fixtures import raw

BUBBLE = re.compile(r'<div class="msg [^"]*" id="m-(\d+)"')


async def only_conversation_id(desk: Desk) -> int:
    async with desk.w.runtime.unit_of_work() as session:
        return int((await session.execute(select(Conversation.id))).scalar_one())


async def post_fixture(client: httpx.AsyncClient, name: str, secret: str) -> None:
    body = raw(name).replace(b"1122334455667", PHONE_NUMBER_ID.encode())
    response = await client.post(
        "/webhooks/whatsapp",
        content=body,
        headers={"content-type": "application/json", "X-Hub-Signature-256": sign(body, secret)},
    )
    assert response.status_code == 200, response.text


async def test_every_inbound_type_renders(desk: Desk) -> None:
    w = desk.w
    first = await inbound(w, "text", "Hola, *quiero* _info_ ~ya~")
    await inbound(w, "image", {"caption": "la camisa"})
    await inbound(w, "audio", {"voice": True})
    await inbound(w, "video", {"caption": "un vídeo"})
    await inbound(w, "document", {"filename": "factura.pdf", "caption": "mi factura"})
    await inbound(w, "sticker", {})
    await inbound(
        w, "location", {"latitude": 40.4168, "longitude": -3.7038, "name": "Tienda Sol", "address": "C/ Mayor 1"}
    )
    await inbound(
        w,
        "contacts",
        [{"name": {"formatted_name": "Luis Pérez", "first_name": "Luis"}, "phones": [{"phone": "+34 600 111 222"}]}],
    )
    await inbound(
        w, "interactive", {"type": "list_reply", "list_reply": {"id": "m", "title": "Talla M", "description": "Lino"}}
    )
    await inbound(w, "button", {"text": "Sí, confirmar", "payload": "CONFIRM"})
    await inbound(w, "reaction", {"message_id": first, "emoji": "❤️"})
    await inbound(
        w,
        "order",
        {
            "catalog_id": "c1",
            "text": "Para el sábado",
            "product_items": [
                {"product_retailer_id": "CAMISA-M", "quantity": 2, "item_price": 29.9, "currency": "EUR"}
            ],
        },
    )
    await inbound(w, "text", "Mira esto", forwarded=True)
    await inbound(w, "text", "Respondo a lo anterior", reply_to=first)
    secret = w.runtime.settings.wa_app_secret
    await post_fixture(desk.client, "webhook_unsupported.json", secret)
    await post_fixture(desk.client, "webhook_system_user_changed_number.json", secret)
    await w.settle()

    async with w.runtime.unit_of_work() as session:
        conversation_id = (
            await session.execute(select(Message.conversation_id).where(Message.provider_message_id == first))
        ).scalar_one()
    page = await desk.client.get(f"/conversations/{conversation_id}")
    assert page.status_code == 200
    html = page.text
    # text with WhatsApp formatting
    assert "<strong>quiero</strong>" in html and "<em>info</em>" in html and "<del>ya</del>" in html
    # image with preview and download; caption
    assert re.search(r'<img src="/media/\d+"', html) and "?download=1" in html and "la camisa" in html
    # voice note playable, video, document with its name
    assert re.search(r'<audio controls preload="none" src="/media/\d+"', html) and "Nota de voz" in html
    assert re.search(r'<video class="media media--video" controls', html)
    assert "factura.pdf" in html
    assert "media--sticker" in html
    # location with a map link
    assert "https://www.openstreetmap.org/?mlat=40.4168&amp;mlon=-3.7038" in html and "Tienda Sol" in html
    # contact card
    assert "Luis Pérez" in html and "+34 600 111 222" in html
    # the customer's list answer and template button answer
    assert "Talla M" in html and "Lino" in html
    assert "Sí, confirmar" in html
    # the reaction sits under its target (the first bubble), not as a bubble of its own
    first_bubble = html[html.find('data-type="text"') :]
    first_bubble = first_bubble[: first_bubble.find('<div class="msg ')]
    assert '<span class="reaction"' in first_bubble and "❤️" in first_bubble
    assert 'data-type="reaction"' not in html
    # order, forwarded marker, quoted reply
    assert "CAMISA-M" in html and "Para el sábado" in html
    assert "Reenviado" in html
    assert 'class="quote"' in html and "Hola, *quiero*" in html
    # honest placeholder for unsupported, and the system line (these fixtures come from another customer)
    async with w.runtime.unit_of_work() as session:
        others = dict(
            (
                await session.execute(
                    select(Message.type, Message.conversation_id).where(Message.type.in_(["unsupported", "system"]))
                )
            ).all()
        )
    assert set(others) == {"unsupported", "system"}
    assert "no se puede mostrar" in (await desk.client.get(f"/conversations/{others['unsupported']}")).text
    assert "activity activity--system" in (await desk.client.get(f"/conversations/{others['system']}")).text


async def test_media_pending_and_failed_say_so(desk: Desk) -> None:
    await inbound(desk.w, "image", {"caption": "uno"})
    await inbound(desk.w, "document", {"filename": "dos.pdf"})
    async with desk.w.runtime.unit_of_work() as session:
        ids = list((await session.execute(select(Attachment.id).order_by(Attachment.id))).scalars())
        await session.execute(update(Attachment).where(Attachment.id == ids[0]).values(state=AttachmentState.pending))
        await session.execute(
            update(Attachment).where(Attachment.id == ids[1]).values(state=AttachmentState.failed, error="timeout")
        )
    html = (await desk.client.get(f"/conversations/{await only_conversation_id(desk)}")).text
    assert "Descargando…" in html
    assert "No se pudo descargar el archivo." in html
    assert "/media/" not in html


async def test_customer_content_is_escaped(desk: Desk) -> None:
    evil = "<script>alert(1)</script>"
    await inbound(desk.w, "text", "<img src=x onerror=alert(1)>", name=evil)
    await inbound(desk.w, "text", evil, name=evil)
    conversation_id = await only_conversation_id(desk)
    for path in ["/?view=all", f"/conversations/{conversation_id}", f"/inbox/row/{conversation_id}?view=all"]:
        html = (await desk.client.get(path)).text
        assert "<script>alert(1)</script>" not in html, path
        assert "<img src=x onerror" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    thread = (await desk.client.get(f"/conversations/{conversation_id}")).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in thread


async def test_outbound_ticks_and_failed_reason_with_retry(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    conversation_id = await only_conversation_id(desk)
    sent = await desk.client.post(
        f"/conversations/{conversation_id}/messages",
        data={"mode": "reply", "text": "¡Hola!"},
        headers=htmx(desk.token, "composer"),
    )
    assert sent.status_code == 200, sent.text
    await desk.w.settle()
    html = (await desk.client.get(f"/conversations/{conversation_id}")).text
    assert 'class="ticks ticks--read"' in html and 'data-status="read"' in html

    advanced = await desk.w.sim.client.post("/_sim/clock/advance", json={"seconds": 25 * 3600})
    assert advanced.status_code == 200
    await desk.client.post(
        f"/conversations/{conversation_id}/messages",
        data={"mode": "reply", "text": "¿Sigues ahí?"},
        headers=htmx(desk.token, "composer"),
    )
    await desk.w.settle()
    html = (await desk.client.get(f"/conversations/{conversation_id}")).text
    failed = re.search(r'<span class="ticks ticks--failed" title="([^"]+)"', html)
    assert failed and "plantilla" in failed.group(1).lower()
    assert "Reintentar" in html and "/resend" in html


async def test_long_conversation_renders_newest_50_and_pages_back(desk: Desk) -> None:
    await inbound(desk.w, "text", "primero")
    conversation_id = await only_conversation_id(desk)
    async with desk.w.runtime.unit_of_work() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        for i in range(120):
            session.add(
                Message(
                    account_id=conversation.account_id,
                    inbox_id=conversation.inbox_id,
                    conversation_id=conversation.id,
                    direction=Direction.inbound,
                    sender_kind=SenderKind.contact,
                    type="text",
                    text=f"mensaje número {i}",
                    status=MessageStatus.received,
                )
            )
    html = (await desk.client.get(f"/conversations/{conversation_id}")).text
    ids = [int(x) for x in BUBBLE.findall(html)]
    assert len(ids) == 50
    assert "mensaje número 119" in html and "mensaje número 69" not in html
    assert "mensaje número 70" in html
    older = await desk.client.get(
        f"/conversations/{conversation_id}/messages", params={"before": min(ids)}, headers=htmx(desk.token)
    )
    older_ids = [int(x) for x in BUBBLE.findall(older.text)]
    assert len(older_ids) == 50 and max(older_ids) < min(ids)
    assert "data-older" in older.text  # more history remains
    last = await desk.client.get(
        f"/conversations/{conversation_id}/messages", params={"before": min(older_ids)}, headers=htmx(desk.token)
    )
    assert "primero" in last.text and "data-older" not in last.text
    assert len(BUBBLE.findall(last.text)) == 21


async def test_opening_marks_read_and_fragment_is_partial(desk: Desk) -> None:
    await inbound(desk.w, "text", "uno")
    await inbound(desk.w, "text", "dos")
    conversation_id = await only_conversation_id(desk)
    row = (await desk.client.get(f"/inbox/row/{conversation_id}?view=all")).text
    assert '<span class="unread"' in row and ">2<" in row
    fragment = await desk.client.get(f"/conversations/{conversation_id}", headers=htmx(desk.token, "conversation"))
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'hx-swap-oob="innerHTML"' in fragment.text
    assert 'id="composer"' in fragment.text
    async with desk.w.runtime.unit_of_work() as session:
        unread = (await session.execute(select(func.sum(Conversation.unread_count)))).scalar_one()
    assert unread == 0
    row = (await desk.client.get(f"/inbox/row/{conversation_id}?view=all")).text
    assert '<span class="unread"' not in row


async def test_newer_messages_and_single_message_fragments(desk: Desk) -> None:
    first = await inbound(desk.w, "text", "uno")
    conversation_id = await only_conversation_id(desk)
    html = (await desk.client.get(f"/conversations/{conversation_id}")).text
    newest = max(int(x) for x in BUBBLE.findall(html))
    await inbound(desk.w, "text", "dos")
    await inbound(desk.w, "reaction", {"message_id": first, "emoji": "😂"})
    newer = (await desk.client.get(f"/conversations/{conversation_id}/messages", params={"after": newest})).text
    assert "dos" in newer
    # the reaction comes back as its target, marked to replace the bubble on screen, never to be appended
    assert f'id="m-{newest}"' in newer and "data-replace-only" in newer and "😂" in newer
    one = (await desk.client.get(f"/conversations/{conversation_id}/messages/{newest}")).text
    assert f'id="m-{newest}"' in one and "😂" in one
    missing = await desk.client.get(f"/conversations/{conversation_id}/messages/999999")
    assert missing.status_code == 404


async def test_window_countdown_in_list_and_header(desk: Desk) -> None:
    await inbound(desk.w, "text", "hola")
    conversation_id = await only_conversation_id(desk)
    async with desk.w.runtime.unit_of_work() as session:
        await session.execute(update(Conversation).values(window_expires_at=utc_now() + timedelta(hours=13, minutes=5)))
    row = (await desk.client.get(f"/inbox/row/{conversation_id}?view=all")).text
    assert ">13 h<" in row
    async with desk.w.runtime.unit_of_work() as session:
        await session.execute(update(Conversation).values(window_expires_at=utc_now() - timedelta(minutes=1)))
    row = (await desk.client.get(f"/inbox/row/{conversation_id}?view=all")).text
    assert ">cerrada<" in row
    header = (await desk.client.get(f"/conversations/{conversation_id}/header")).text
    assert "Ventana cerrada" in header
