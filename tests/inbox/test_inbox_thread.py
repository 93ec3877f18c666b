"""The conversation view renders every message type the channel parses, escaped, with ticks and history paging."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from inboxhelpers import Desk, htmx, inbound
from sqlalchemy import func, select, update

from mostrador.channels.whatsapp.signature import sign
from mostrador.kit.time import utc_now
from mostrador.models import Attachment, AttachmentState, Conversation, Direction, Message, MessageStatus, SenderKind
from sim_wiring import CUSTOMER, PHONE_NUMBER_ID
from wa_fixtures import load, raw

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


async def post_from_fixture(desk: Desk, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    """A fixture's webhook as our customer (CUSTOMER on our number) sends it now; ``change`` edits its message."""
    body = copy.deepcopy(load(name))
    value = body["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = PHONE_NUMBER_ID
    value["contacts"] = [{"profile": {"name": "Ana Martínez"}, "wa_id": CUSTOMER}]
    message = value["messages"][0]
    message["from"] = CUSTOMER
    message["timestamp"] = str(int(utc_now().timestamp()))
    change(message)
    content = json.dumps(body).encode()
    secret = desk.w.runtime.settings.wa_app_secret
    response = await desk.client.post(
        "/webhooks/whatsapp",
        content=content,
        headers={"content-type": "application/json", "X-Hub-Signature-256": sign(content, secret)},
    )
    assert response.status_code == 200, response.text
    await desk.w.settle()


def bubble(html: str, message_id: int) -> str:
    """One message's markup, from its opening tag to the next message."""
    start = html.index(f'id="m-{message_id}"')
    end = html.find('<div class="msg ', start)
    return html[start : end if end != -1 else len(html)]


async def message_id(desk: Desk, wamid: str) -> int:
    async with desk.w.runtime.unit_of_work() as session:
        return int((await session.execute(select(Message.id).where(Message.provider_message_id == wamid))).scalar_one())


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


async def test_failed_message_is_resent_from_its_bubble(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    conversation_id = await only_conversation_id(desk)
    await desk.w.sim.client.post("/_sim/clock/advance", json={"seconds": 25 * 3600})
    await desk.client.post(
        f"/conversations/{conversation_id}/messages",
        data={"mode": "reply", "text": "¿Sigues ahí?"},
        headers=htmx(desk.token, "composer"),
    )
    await desk.w.settle()
    async with desk.w.runtime.unit_of_work() as session:
        failed = (await session.execute(select(Message).where(Message.text == "¿Sigues ahí?"))).scalar_one()
    assert failed.status is MessageStatus.failed

    await inbound(desk.w, "text", "Sí, aquí estoy")  # the customer writes: WhatsApp opens the window again
    resent = await desk.client.post(
        f"/conversations/{conversation_id}/messages/{failed.id}/resend", headers=htmx(desk.token, f"m-{failed.id}")
    )
    assert resent.status_code == 200
    assert f'id="m-{failed.id}"' in resent.text and "Enviando de nuevo" in resent.text
    assert "ticks--failed" not in resent.text
    await desk.w.settle()
    async with desk.w.runtime.unit_of_work() as session:
        again = await session.get(Message, failed.id)
        assert again is not None and again.status is MessageStatus.read and again.error_code is None
    delivered = (await desk.w.sim.client.get("/_sim/messages", params={"to": CUSTOMER})).json()
    assert [m["request"]["text"]["body"] for m in delivered].count("¿Sigues ahí?") >= 1

    # only a failed message can be sent again, from the bubble or the API
    twice = await desk.client.post(
        f"/conversations/{conversation_id}/messages/{failed.id}/resend", headers=htmx(desk.token)
    )
    assert twice.status_code == 200 and "toast--error" in twice.text
    api = await desk.client.post(
        f"/api/v1/conversations/{conversation_id}/messages/{failed.id}/resend", headers=desk.w.world.auth
    )
    assert api.status_code == 422 and api.json()["error"]["code"] == "not_failed"


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


async def test_button_list_and_flow_answers_render_as_answers(desk: Desk) -> None:
    button = await inbound(
        desk.w, "interactive", {"type": "button_reply", "button_reply": {"id": "si", "title": "Sí, reservar"}}
    )
    listed = await inbound(
        desk.w,
        "interactive",
        {"type": "list_reply", "list_reply": {"id": "l", "title": "Talla L", "description": "Lino, manga corta"}},
    )
    await post_from_fixture(desk, "webhook_interactive_nfm_reply.json", lambda m: m.update(id="wamid.flow-1"))

    def richer_flow(message: dict[str, Any]) -> None:
        message["id"] = "wamid.flow-2"
        answers = {"colores": ["rojo", "azul"], "acepta": True, "envio": {"ciudad": "Sevilla"}, "flow_token": "t0k3n"}
        message["interactive"]["nfm_reply"]["response_json"] = json.dumps(answers)

    await post_from_fixture(desk, "webhook_interactive_nfm_reply.json", richer_flow)
    await post_from_fixture(
        desk, "webhook_interactive_nfm_reply_no_flow_token.json", lambda m: m.update(id="wamid.flow-3")
    )
    html = (await desk.client.get(f"/conversations/{await only_conversation_id(desk)}")).text

    tapped = bubble(html, await message_id(desk, button))
    assert 'data-type="interactive"' in tapped
    assert '<span class="answer__label">Eligió</span> <strong>Sí, reservar</strong>' in tapped
    chosen = bubble(html, await message_id(desk, listed))
    assert '<span class="answer__label">Eligió</span> <strong>Talla L</strong>' in chosen
    assert '<div class="muted">Lino, manga corta</div>' in chosen

    flow = bubble(html, await message_id(desk, "wamid.flow-1"))
    assert '<span class="answer__label">Formulario enviado</span>' in flow
    assert "<dt>comment_text</dt><dd>Comment Text</dd>" in flow and "<dt>delivery_rating</dt><dd>4</dd>" in flow
    assert "flow_token" not in flow and "AQAAAAACS5FpgQ" not in flow  # the token is ours, not the customer's answer
    richer = bubble(html, await message_id(desk, "wamid.flow-2"))
    assert "<dt>colores</dt><dd>rojo, azul</dd>" in richer and "<dt>acepta</dt><dd>Sí</dd>" in richer
    assert "<dt>envio</dt><dd>ciudad: Sevilla</dd>" in richer
    assert "[" not in richer.split("answer__fields", 1)[1].split("</dl>", 1)[0]  # never a Python repr
    untokened = bubble(html, await message_id(desk, "wamid.flow-3"))
    assert "<dt>cs_rating</dt><dd>0</dd>" in untokened


async def test_edits_and_deletions_show_on_the_original_message(desk: Desk) -> None:
    edited = await inbound(desk.w, "text", "Quiero la talla M")
    deleted = await inbound(desk.w, "text", "Mi tarjeta es 4111 1111 1111 1111")
    photo = await inbound(desk.w, "image", {"caption": "la camisa azul"})
    cid = await only_conversation_id(desk)
    page = (await desk.client.get(f"/conversations/{cid}")).text
    newest = max(int(x) for x in BUBBLE.findall(page))

    def edit(wamid: str, new_id: str) -> Callable[[dict[str, Any]], None]:
        def change(message: dict[str, Any]) -> None:
            message["id"] = new_id
            message["edit"]["original_message_id"] = wamid
            message["edit"]["message"] = {"type": "text", "text": {"body": "Quiero la talla L, *mejor*"}}

        return change

    await post_from_fixture(desk, "webhook_message_edited.json", edit(edited, "wamid.edit-1"))
    await post_from_fixture(
        desk,
        "webhook_message_revoked.json",
        lambda m: m.update(id="wamid.revoke-1", revoke={"original_message_id": deleted}),
    )

    def caption(message: dict[str, Any]) -> None:  # the fixture as Meta sends it: a new caption for a photo
        message["id"] = "wamid.edit-2"
        message["edit"]["original_message_id"] = photo

    await post_from_fixture(desk, "webhook_message_edited.json", caption)
    await post_from_fixture(
        desk,
        "webhook_message_revoked.json",
        lambda m: m.update(id="wamid.revoke-2", revoke={"original_message_id": "wamid.nunca-visto"}),
    )

    # live: the open conversation gets the originals back, to replace on screen, and never a bubble of their own
    newer = (await desk.client.get(f"/conversations/{cid}/messages", params={"after": newest})).text
    originals = [await message_id(desk, wamid) for wamid in (edited, deleted, photo)]
    for original in originals:
        assert f'id="m-{original}"' in newer
    assert newer.count("data-replace-only") == 3
    assert 'data-type="edit"' not in newer and 'data-type="revoke"' in newer  # only the one with no original here

    html = (await desk.client.get(f"/conversations/{cid}")).text
    text = bubble(html, originals[0])
    assert "Quiero la talla L, <strong>mejor</strong>" in text and '<span class="bubble__edited"' in text
    assert "talla M" not in html
    gone = bubble(html, originals[1])
    assert "El cliente eliminó este mensaje." in gone and "data-reply-to" not in gone
    assert "4111" not in html
    image = bubble(html, originals[2])
    assert (
        re.search(r'<img src="/media/\d+"', image) and "Updated image caption" in image and "la camisa azul" not in html
    )
    assert 'data-type="edit"' not in html
    # a deletion of a message this conversation never had stands on its own, honestly worded, with no reply action
    lone = bubble(html, await message_id(desk, "wamid.revoke-2"))
    assert "El cliente eliminó este mensaje." in lone and "data-reply-to" not in lone
    # the single-message fragment of an edit is its original
    one = await desk.client.get(f"/conversations/{cid}/messages/{await message_id(desk, 'wamid.edit-1')}")
    assert f'id="m-{originals[0]}"' in one.text and "talla L" in one.text
