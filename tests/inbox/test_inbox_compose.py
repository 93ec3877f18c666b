"""The composer through the UI routes: text, notes, templates (closed window), canned responses, CSRF."""

from __future__ import annotations

from datetime import timedelta

from inboxhelpers import Desk, htmx, inbound
from sqlalchemy import select, update

from mostrador.canned_responses.schemas import CannedResponseCreate
from mostrador.canned_responses.service import canned_response as canned_service
from mostrador.kit.time import utc_now
from mostrador.models import Conversation, Message, MessageTemplate
from sim_wiring import CUSTOMER, WABA_ID


async def conversation_id(desk: Desk) -> int:
    async with desk.w.runtime.unit_of_work() as session:
        return int((await session.execute(select(Conversation.id))).scalar_one())


async def messages(desk: Desk) -> list[Message]:
    async with desk.w.runtime.unit_of_work() as session:
        return list((await session.execute(select(Message).order_by(Message.id))).scalars())


async def close_window(desk: Desk) -> None:
    async with desk.w.runtime.unit_of_work() as session:
        await session.execute(update(Conversation).values(window_expires_at=utc_now() - timedelta(minutes=1)))


async def add_templates(desk: Desk) -> None:
    async with desk.w.runtime.unit_of_work() as session:
        session.add_all(
            [
                MessageTemplate(
                    account_id=desk.w.world.account.id,
                    inbox_id=desk.w.world.inbox.id,
                    name="pedido_listo",
                    language="es",
                    category="UTILITY",
                    status="APPROVED",
                    components=[{"type": "BODY", "text": "Hola {{1}}, tu pedido {{2}} está listo."}],
                ),
                MessageTemplate(
                    account_id=desk.w.world.account.id,
                    inbox_id=desk.w.world.inbox.id,
                    name="promo_rechazada",
                    language="es",
                    category="MARKETING",
                    status="REJECTED",
                    components=[{"type": "BODY", "text": "Oferta"}],
                ),
            ]
        )
    # the simulated Meta knows (and approves) the same template
    desk.w.sim.sim.create_template(
        WABA_ID,
        {
            "name": "pedido_listo",
            "language": "es",
            "category": "UTILITY",
            "components": [
                {
                    "type": "BODY",
                    "text": "Hola {{1}}, tu pedido {{2}} está listo.",
                    "example": {"body_text": [["Ana", "A-17"]]},
                }
            ],
        },
    )
    await desk.w.settle()


async def template_id(desk: Desk, name: str) -> int:
    async with desk.w.runtime.unit_of_work() as session:
        return int((await session.execute(select(MessageTemplate.id).where(MessageTemplate.name == name))).scalar_one())


async def test_send_text_reaches_the_customer(desk: Desk) -> None:
    wamid = await inbound(desk.w, "text", "¿Tienen la camisa en M?")
    cid = await conversation_id(desk)
    target = next(m for m in await messages(desk) if m.provider_message_id == wamid)
    response = await desk.client.post(
        f"/conversations/{cid}/messages",
        data={"mode": "reply", "text": "Sí, nos quedan dos 😊", "reply_to_message_id": str(target.id)},
        headers=htmx(desk.token, "composer"),
    )
    assert response.status_code == 200, response.text
    assert "mostrador:refresh-thread" in response.headers["HX-Trigger"]
    assert 'id="composer"' in response.text and "Sí, nos quedan" not in response.text  # a fresh composer
    await desk.w.settle()
    sent = (await desk.w.sim.client.get("/_sim/messages", params={"to": CUSTOMER})).json()
    assert [m["request"]["text"]["body"] for m in sent] == ["Sí, nos quedan dos 😊"]
    assert sent[0]["request"]["context"]["message_id"] == wamid
    ours = [m for m in await messages(desk) if m.direction.value == "outbound"]
    assert ours[-1].reply_to_id == target.id and ours[-1].sender_user_id == desk.w.world.admin.id


async def test_note_is_private_and_never_sent(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    cid = await conversation_id(desk)
    response = await desk.client.post(
        f"/conversations/{cid}/messages",
        data={"mode": "note", "text": "Cliente VIP, ojo"},
        headers=htmx(desk.token, "composer"),
    )
    assert response.status_code == 200
    assert 'data-mode="note"' in response.text  # stays in note mode
    await desk.w.settle()
    assert (await desk.w.sim.client.get("/_sim/messages", params={"to": CUSTOMER})).json() == []
    note = (await messages(desk))[-1]
    assert note.type == "note" and note.is_private
    html = (await desk.client.get(f"/conversations/{cid}")).text
    assert "bubble--note" in html and "Cliente VIP, ojo" in html and "Nota privada" in html


async def test_posts_without_csrf_are_refused(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    cid = await conversation_id(desk)
    refused = await desk.client.post(
        f"/conversations/{cid}/messages", data={"mode": "reply", "text": "sin token"}, headers={"HX-Request": "true"}
    )
    assert refused.status_code == 403
    assert [m.text for m in await messages(desk) if m.direction.value == "outbound"] == []


async def test_empty_text_is_an_inline_error(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    cid = await conversation_id(desk)
    response = await desk.client.post(
        f"/conversations/{cid}/messages", data={"mode": "reply", "text": "   "}, headers=htmx(desk.token, "composer")
    )
    assert response.status_code == 422
    assert "Escribe un mensaje primero." in response.text


async def test_closed_window_shows_template_picker_and_refuses_free_text(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    await add_templates(desk)
    cid = await conversation_id(desk)
    await close_window(desk)
    html = (await desk.client.get(f"/conversations/{cid}")).text
    assert "La ventana de 24 h está cerrada: solo puedes enviar una plantilla aprobada" in html
    assert 'data-mode="template"' in html and 'data-composer-mode="reply" aria-pressed="false" disabled' in html
    assert "pedido_listo" in html and "promo_rechazada" not in html  # approved ones only
    # free text anyway (e.g. a stale page): an inline message, never a 500, and nothing is queued
    refused = await desk.client.post(
        f"/conversations/{cid}/messages",
        data={"mode": "reply", "text": "¿Sigues ahí?"},
        headers=htmx(desk.token, "composer"),
    )
    assert refused.status_code == 422
    assert "La ventana de 24 h está cerrada" in refused.text and "¿Sigues ahí?" in refused.text
    assert [m for m in await messages(desk) if m.direction.value == "outbound" and m.type == "text"] == []


async def test_template_form_preview_and_send(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    await add_templates(desk)
    cid = await conversation_id(desk)
    await close_window(desk)
    tid = await template_id(desk, "pedido_listo")
    form = await desk.client.get(f"/conversations/{cid}/template-form", params={"template_id": tid})
    assert form.status_code == 200
    assert 'name="body.1"' in form.text and 'name="body.2"' in form.text
    assert "Hola {{1}}, tu pedido {{2}} está listo." in form.text  # the preview shows the empty slots
    preview = await desk.client.get(
        f"/conversations/{cid}/template-preview",
        params={"template_id": tid, "body.1": "Ana <b>", "body.2": "*A-17*"},
    )
    assert "Hola Ana &lt;b&gt;, tu pedido <strong>A-17</strong> está listo." in preview.text
    assert (await desk.w.sim.client.get("/_sim/messages", params={"to": CUSTOMER})).json() == []  # nothing sent

    missing = await desk.client.post(
        f"/conversations/{cid}/template",
        data={"template_id": str(tid), "body.1": "Ana", "body.2": ""},
        headers=htmx(desk.token, "composer"),
    )
    assert missing.status_code == 422
    assert "Rellena todas las variables de la plantilla." in missing.text
    assert 'value="Ana"' in missing.text  # what the agent typed is kept

    sent = await desk.client.post(
        f"/conversations/{cid}/template",
        data={"template_id": str(tid), "body.1": "Ana", "body.2": "A-17"},
        headers=htmx(desk.token, "composer"),
    )
    assert sent.status_code == 200, sent.text
    await desk.w.settle()
    delivered = (await desk.w.sim.client.get("/_sim/messages", params={"to": CUSTOMER})).json()
    assert len(delivered) == 1 and delivered[0]["request"]["template"]["name"] == "pedido_listo"
    html = (await desk.client.get(f"/conversations/{cid}")).text
    assert "Hola Ana, tu pedido A-17 está listo." in html and "template-tag" in html


async def test_rejected_or_foreign_template_cannot_be_sent(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    await add_templates(desk)
    cid = await conversation_id(desk)
    rejected = await template_id(desk, "promo_rechazada")
    response = await desk.client.post(
        f"/conversations/{cid}/template", data={"template_id": str(rejected)}, headers=htmx(desk.token, "composer")
    )
    assert response.status_code == 422
    assert "Elige una plantilla aprobada." in response.text


async def test_canned_responses_suggested_after_slash(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    cid = await conversation_id(desk)
    async with desk.w.runtime.unit_of_work() as session:
        await canned_service.create(
            session,
            desk.w.world.account.id,
            CannedResponseCreate(short_code="horario", content="Abrimos de 10 a 20 h <todos> los días."),
        )
        await canned_service.create(
            session, desk.w.world.account.id, CannedResponseCreate(short_code="envios", content="Enviamos en 48 h.")
        )
    found = await desk.client.get(f"/conversations/{cid}/canned", params={"text": "Hola! /hor"})
    assert "/horario" in found.text and "/envios" not in found.text
    assert 'data-canned-content="Abrimos de 10 a 20 h &lt;todos&gt; los días."' in found.text
    everything = await desk.client.get(f"/conversations/{cid}/canned", params={"text": "/"})
    assert "/horario" in everything.text and "/envios" in everything.text
    nothing = await desk.client.get(f"/conversations/{cid}/canned", params={"text": "a las 10/12"})
    assert nothing.text == ""
    none = await desk.client.get(f"/conversations/{cid}/canned", params={"text": "/zzz"})
    assert "Ninguna respuesta rápida" in none.text


async def test_emoji_picker_panel(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    cid = await conversation_id(desk)
    composer = await desk.client.get(f"/conversations/{cid}/composer")
    assert "data-emoji-toggle" in composer.text and 'data-emoji-url="/emoji"' in composer.text
    assert "Insertar un emoji" in composer.text
    panel = await desk.client.get("/emoji")
    assert panel.status_code == 200
    # grouped, labelled in the agent's language, searchable in Spanish, English and Portuguese
    for label in ("Caras", "Pedidos y envíos", "Hora y lugar", "Usados recientemente", "Buscar emoji"):
        assert label in panel.text
    assert 'data-emoji-char="🚚"' in panel.text
    truck = panel.text.split('data-emoji-char="🚚"', 1)[1].split(">", 1)[0]
    assert all(word in truck for word in ("envío", "shipping", "entrega"))
    assert panel.text.count("data-emoji-char=") >= 90
    desk.client.cookies.clear()
    anonymous = await desk.client.get("/emoji", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)
