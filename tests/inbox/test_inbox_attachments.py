"""Attachments in the composer (UI route) and the same operation in the JSON API, against the simulator: the file
reaches the simulated phone by media id, the bubble renders like inbound media, errors are explained in the agent's
language, and another account's conversation is a 404."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from inboxhelpers import Desk, csrf_from, htmx, inbound, login
from sqlalchemy import select, update

from factories import make_user, make_world
from media_samples import GIF, OPUS, PDF, PNG
from mostrador.kit.time import utc_now
from mostrador.models import Attachment, Conversation, Message, MessageTemplate, Role
from sim_wiring import CUSTOMER, WABA_ID

BIG_PNG = PNG + b"\x00" * (5 * 1024 * 1024 - len(PNG) + 1)


async def conversation_id(desk: Desk) -> int:
    async with desk.w.runtime.unit_of_work() as session:
        return int((await session.execute(select(Conversation.id))).scalar_one())


async def outbound(desk: Desk) -> list[Message]:
    async with desk.w.runtime.unit_of_work() as session:
        rows = await session.execute(select(Message).where(Message.direction == "outbound").order_by(Message.id))
        return list(rows.scalars())


async def attachment_of(desk: Desk, message_id: int) -> Attachment:
    async with desk.w.runtime.unit_of_work() as session:
        return (await session.execute(select(Attachment).where(Attachment.message_id == message_id))).scalar_one()


async def sent_to_customer(desk: Desk) -> list[dict[str, object]]:
    return list((await desk.w.sim.client.get("/_sim/messages", params={"to": CUSTOMER})).json())


async def attach(desk: Desk, cid: int, content: bytes, name: str, mime: str, text: str = "") -> httpx.Response:
    return await desk.client.post(
        f"/conversations/{cid}/attachments",
        data={"text": text, "reply_to_message_id": ""},
        files={"file": (name, content, mime)},
        headers=htmx(desk.token, "composer"),
    )


class TestComposer:
    async def test_the_composer_has_a_paperclip_posting_multipart(self, desk: Desk) -> None:
        await inbound(desk.w, "text", "Hola")
        cid = await conversation_id(desk)
        html = (await desk.client.get(f"/conversations/{cid}")).text
        assert 'hx-encoding="multipart/form-data"' in html
        assert f'data-attach-url="/conversations/{cid}/attachments"' in html
        assert 'type="file" name="file"' in html and "image/jpeg" in html and "application/pdf" in html
        assert "Adjuntar foto, video, audio o documento" in html

    async def test_a_photo_with_caption_reaches_the_phone_and_renders_like_inbound_media(self, desk: Desk) -> None:
        wamid = await inbound(desk.w, "text", "¿Me mandas una foto del escaparate?")
        cid = await conversation_id(desk)
        async with desk.w.runtime.unit_of_work() as session:
            asked = (await session.execute(select(Message).where(Message.provider_message_id == wamid))).scalar_one()
        response = await desk.client.post(
            f"/conversations/{cid}/attachments",
            data={"text": "Así queda 😊", "reply_to_message_id": str(asked.id)},
            files={"file": ("escaparate.png", PNG, "image/png")},
            headers=htmx(desk.token, "composer"),
        )
        assert response.status_code == 200, response.text
        assert "mostrador:refresh-thread" in response.headers["HX-Trigger"]
        assert "data-composer-error" not in response.text and "Así queda" not in response.text  # a fresh composer
        await desk.w.settle()

        sent = await sent_to_customer(desk)
        assert len(sent) == 1
        request = sent[0]["request"]
        assert isinstance(request, dict) and request["type"] == "image"
        assert request["image"]["caption"] == "Así queda 😊" and set(request["image"]) == {"id", "caption"}
        assert request["context"] == {"message_id": wamid}
        media_id = request["image"]["id"]
        assert desk.w.sim.sim.state.media[media_id].data == PNG  # uploaded, then sent by id
        phone = (await desk.w.sim.client.get("/_sim/thread", params={"wa_id": CUSTOMER})).json()
        shown = [item for item in phone["items"] if item["dir"] == "out"][-1]
        assert shown["render"] == {
            "kind": "media",
            "media_type": "image",
            "media_id": media_id,
            "link": None,
            "caption": "Así queda 😊",
            "filename": None,
        }

        [mine] = await outbound(desk)
        assert (
            mine.type == "image" and mine.text == "Así queda 😊" and mine.status.value in ("sent", "delivered", "read")
        )
        attachment = await attachment_of(desk, mine.id)
        assert attachment.provider_media_id == media_id
        thread = (await desk.client.get(f"/conversations/{cid}/messages")).text
        assert f'<img src="/media/{attachment.id}"' in thread and f'href="/media/{attachment.id}?download=1"' in thread
        assert "Así queda 😊" in thread
        served = await desk.client.get(f"/media/{attachment.id}")
        assert served.status_code == 200 and served.content == PNG and served.headers["content-type"] == "image/png"

    async def test_a_voice_note_plays_and_a_document_downloads(self, desk: Desk) -> None:
        await inbound(desk.w, "text", "Hola")
        cid = await conversation_id(desk)
        assert (await attach(desk, cid, OPUS, "nota.ogg", "audio/ogg")).status_code == 200
        assert (await attach(desk, cid, PDF, "presupuesto.pdf", "application/pdf", "Tu presupuesto")).status_code == 200
        await desk.w.settle()
        requests = [m["request"] for m in await sent_to_customer(desk)]
        assert [r["type"] for r in requests] == ["audio", "document"]  # type: ignore[index]
        assert requests[1]["document"]["filename"] == "presupuesto.pdf"  # type: ignore[index]
        audio, _document = await outbound(desk)
        thread = (await desk.client.get(f"/conversations/{cid}/messages")).text
        audio_file = await attachment_of(desk, audio.id)
        assert f'<audio controls preload="none" src="/media/{audio_file.id}">' in thread
        assert "media--document" in thread and "presupuesto.pdf" in thread and "Tu presupuesto" in thread

    @pytest.mark.parametrize(
        ("language", "too_large", "wrong_type", "closed"),
        [
            (
                "es",
                "El archivo es demasiado grande: WhatsApp admite fotos de 5.0 MB como máximo.",
                "WhatsApp no acepta este tipo de archivo.",
                "La ventana de 24 h está cerrada",
            ),
            (
                "en",
                "The file is too large: WhatsApp takes photos of 5.0 MB at most.",
                "WhatsApp does not accept this type of file.",
                "The 24 h window is closed",
            ),
            (
                "pt",
                "O arquivo é grande demais: o WhatsApp aceita fotos de no máximo 5.0 MB.",
                "O WhatsApp não aceita este tipo de arquivo.",
                "A janela de 24 h está fechada",
            ),
        ],
    )
    async def test_refusals_are_explained_and_nothing_is_sent(
        self, desk: Desk, language: str, too_large: str, wrong_type: str, closed: str
    ) -> None:
        await inbound(desk.w, "text", "Hola")
        cid = await conversation_id(desk)
        if language != "es":  # the agent's own language (Spanish is the account's default)
            switched = await desk.client.post("/settings/language", data={"locale": language}, headers=htmx(desk.token))
            assert switched.status_code == 200
            desk.token = csrf_from((await desk.client.get("/")).text)
        big = await attach(desk, cid, BIG_PNG, "grande.png", "image/png", "mira")
        assert big.status_code == 413 and too_large in big.text
        assert "data-composer-error" in big.text and ">mira</textarea>" in big.text  # the caption is kept
        gif = await attach(desk, cid, GIF, "risa.gif", "image/gif")
        assert gif.status_code == 415 and wrong_type in gif.text
        disguised = await attach(desk, cid, b"<html><script>x</script>", "foto.jpg", "image/jpeg")
        assert disguised.status_code == 415
        async with desk.w.runtime.unit_of_work() as session:
            await session.execute(update(Conversation).values(window_expires_at=utc_now() - timedelta(minutes=1)))
        late = await attach(desk, cid, PNG, "a.png", "image/png")
        assert late.status_code == 409 and closed in late.text
        await desk.w.settle()
        assert await outbound(desk) == [] and await sent_to_customer(desk) == []

    async def test_a_post_without_a_file_or_csrf_token_is_refused(self, desk: Desk) -> None:
        await inbound(desk.w, "text", "Hola")
        cid = await conversation_id(desk)
        empty = await desk.client.post(
            f"/conversations/{cid}/attachments", data={"text": "hola"}, headers=htmx(desk.token, "composer")
        )
        assert empty.status_code == 422 and "Elige un archivo para enviar." in empty.text
        forged = await desk.client.post(
            f"/conversations/{cid}/attachments",
            files={"file": ("a.png", PNG, "image/png")},
            headers={"HX-Request": "true"},
        )
        assert forged.status_code == 403
        assert await outbound(desk) == []


class TestApi:
    async def test_send_media_returns_the_queued_message(self, desk: Desk) -> None:
        await inbound(desk.w, "text", "Hola")
        cid = await conversation_id(desk)
        response = await desk.client.post(
            f"/api/v1/conversations/{cid}/messages/media",
            data={"caption": "Factura de marzo"},
            files={"file": ("F-2026-03.pdf", PDF, "application/octet-stream")},
            headers=desk.w.world.auth,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["type"] == "document" and body["text"] == "Factura de marzo" and body["status"] == "queued"
        assert body["content"]["mime_type"] == "application/pdf" and body["content"]["filename"] == "F-2026-03.pdf"
        await desk.w.settle()
        [sent] = await sent_to_customer(desk)
        assert sent["request"]["document"]["caption"] == "Factura de marzo"  # type: ignore[index]
        listed = await desk.client.get(f"/api/v1/conversations/{cid}/messages", headers=desk.w.world.auth)
        assert listed.json()[-1]["status"] in ("sent", "delivered", "read")

    async def test_errors_are_json_with_a_4xx(self, desk: Desk) -> None:
        await inbound(desk.w, "text", "Hola")
        cid = await conversation_id(desk)
        url = f"/api/v1/conversations/{cid}/messages/media"
        auth = desk.w.world.auth

        big = await desk.client.post(url, files={"file": ("g.png", BIG_PNG, "image/png")}, headers=auth)
        assert big.status_code == 413 and big.json()["error"]["code"] == "media_too_large"
        gif = await desk.client.post(url, files={"file": ("g.gif", GIF, "image/gif")}, headers=auth)
        assert gif.status_code == 415 and gif.json()["error"]["code"] == "media_type_unsupported"
        caption = await desk.client.post(
            url, data={"caption": "escucha"}, files={"file": ("n.ogg", OPUS, "audio/ogg")}, headers=auth
        )
        assert caption.status_code == 422 and caption.json()["error"]["code"] == "caption_not_allowed"
        missing = await desk.client.post(url, data={"caption": "x"}, headers=auth)
        assert missing.status_code == 422 and missing.json()["error"]["code"] == "validation_error"
        async with desk.w.runtime.unit_of_work() as session:
            await session.execute(update(Conversation).values(window_expires_at=utc_now() - timedelta(minutes=1)))
        closed = await desk.client.post(url, files={"file": ("a.png", PNG, "image/png")}, headers=auth)
        assert closed.status_code == 409 and closed.json()["error"]["code"] == "outside_service_window"
        assert set(closed.json()["error"]) == {"code", "message"}
        assert await outbound(desk) == []

    async def test_openapi_documents_the_multipart_operation(self, desk: Desk) -> None:
        spec = (await desk.client.get("/openapi.json")).json()
        operation = spec["paths"]["/api/v1/conversations/{conversation_id}/messages/media"]["post"]
        assert "multipart/form-data" in operation["requestBody"]["content"]
        assert {"201", "409", "413", "415"} <= set(operation["responses"])


async def test_another_accounts_conversation_is_a_404(runtime, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    await inbound(desk.w, "text", "secreto de A")
    cid = await conversation_id(desk)
    other = await make_world(runtime, suffix="b", phone_number_id="9990001", waba_id="9990002")
    intruder = await make_user(runtime, other.account, "intruso@otra.example", Role.admin, name="Intruso")
    app = desk.client._transport.app  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mostrador.test") as b:
        token = await login(b, intruder.email)
        ui = await b.post(
            f"/conversations/{cid}/attachments",
            data={"text": "hola"},
            files={"file": ("a.png", PNG, "image/png")},
            headers=htmx(token, "composer"),
        )
        assert ui.status_code == 404 and "secreto" not in ui.text
        header_upload = await b.post(
            f"/conversations/{cid}/template",
            data={"template_id": "1"},
            files={"header_file": ("a.png", PNG, "image/png")},
            headers=htmx(token, "composer"),
        )
        assert header_upload.status_code == 404
        api = await b.post(
            f"/api/v1/conversations/{cid}/messages/media",
            files={"file": ("a.png", PNG, "image/png")},
            headers=other.auth,
        )
        assert api.status_code == 404 and api.json()["error"]["code"] == "conversation_not_found"
    assert await outbound(desk) == []
    async with runtime.unit_of_work() as session:
        assert (await session.execute(select(Attachment))).first() is None


class TestTemplatePicker:
    async def add_templates(self, desk: Desk) -> dict[str, int]:
        specs = {
            "nueva_coleccion": [
                {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1n:ARb"]}},
                {
                    "type": "BODY",
                    "text": "Hola {{1}}, llegó la colección de lino.",
                    "example": {"body_text": [["Ana"]]},
                },
            ],
            "pedido_enviado": [
                {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}", "example": {"header_text": ["CO-1"]}},
                {"type": "BODY", "text": "Hola {{1}}, tu pedido ya salió.", "example": {"body_text": [["Ana"]]}},
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {"type": "URL", "text": "Seguir mi pedido", "url": "https://tienda.example/envios/{{1}}"}
                    ],
                },
            ],
        }
        ids: dict[str, int] = {}
        async with desk.w.runtime.unit_of_work() as session:
            for name, components in specs.items():
                template = MessageTemplate(
                    account_id=desk.w.world.account.id,
                    inbox_id=desk.w.world.inbox.id,
                    name=name,
                    language="es",
                    category="UTILITY",
                    status="APPROVED",
                    components=components,
                )
                session.add(template)
                await session.flush()
                ids[name] = template.id
        for name, components in specs.items():
            desk.w.sim.sim.create_template(
                WABA_ID, {"name": name, "language": "es", "category": "UTILITY", "components": components}
            )
        await desk.w.settle()
        return ids

    async def test_url_button_and_text_header_with_live_preview(self, desk: Desk) -> None:
        await inbound(desk.w, "text", "Hola")
        ids = await self.add_templates(desk)
        cid = await conversation_id(desk)
        tid = ids["pedido_enviado"]
        form = await desk.client.get(f"/conversations/{cid}/template-form", params={"template_id": tid})
        assert 'name="header.1"' in form.text and 'name="body.1"' in form.text and 'name="button.0"' in form.text
        assert "https://tienda.example/envios/" in form.text
        preview = await desk.client.get(
            f"/conversations/{cid}/template-preview",
            params={"template_id": tid, "header.1": "CO-9", "body.1": "Ana", "button.0": "CO-9"},
        )
        assert "<strong>Pedido CO-9</strong>" in preview.text and "https://tienda.example/envios/CO-9" in preview.text

        missing = await desk.client.post(
            f"/conversations/{cid}/template",
            data={"template_id": str(tid), "header.1": "CO-9", "body.1": "Ana"},
            headers=htmx(desk.token, "composer"),
        )
        assert missing.status_code == 422 and "Rellena todas las variables de la plantilla." in missing.text
        assert await sent_to_customer(desk) == []  # refused here, never a Meta failure

        sent = await desk.client.post(
            f"/conversations/{cid}/template",
            data={"template_id": str(tid), "header.1": "CO-9", "body.1": "Ana", "button.0": "CO-9"},
            headers=htmx(desk.token, "composer"),
        )
        assert sent.status_code == 200, sent.text
        await desk.w.settle()
        [delivered] = await sent_to_customer(desk)
        components = delivered["request"]["template"]["components"]  # type: ignore[index]
        assert components[-1] == {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "CO-9"}],
        }
        assert delivered["status"] != "failed"
        phone = (await desk.w.sim.client.get("/_sim/thread", params={"wa_id": CUSTOMER})).json()
        shown = [item for item in phone["items"] if item["dir"] == "out"][-1]["render"]
        assert shown["header"]["text"] == "Pedido CO-9"
        assert shown["buttons"][0]["url"] == "https://tienda.example/envios/CO-9"

    async def test_image_header_uploaded_from_the_picker(self, desk: Desk) -> None:
        await inbound(desk.w, "text", "Hola")
        ids = await self.add_templates(desk)
        cid = await conversation_id(desk)
        tid = ids["nueva_coleccion"]
        form = await desk.client.get(f"/conversations/{cid}/template-form", params={"template_id": tid})
        assert 'name="header_file"' in form.text and 'name="header_link"' in form.text
        assert 'data-template-preview-header="image"' in form.text
        no_image = await desk.client.post(
            f"/conversations/{cid}/template",
            data={"template_id": str(tid), "body.1": "Ana"},
            headers=htmx(desk.token, "composer"),
        )
        assert no_image.status_code == 422 and "Añade el encabezado de la plantilla" in no_image.text
        bad_link = await desk.client.post(
            f"/conversations/{cid}/template",
            data={"template_id": str(tid), "body.1": "Ana", "header_link": "ftp://tienda.example/a.png"},
            headers=htmx(desk.token, "composer"),
        )
        assert bad_link.status_code == 422 and "El enlace del encabezado debe ser una dirección web" in bad_link.text
        assert 'value="ftp://tienda.example/a.png"' in bad_link.text  # kept for the agent to fix
        sent = await desk.client.post(
            f"/conversations/{cid}/template",
            data={"template_id": str(tid), "body.1": "Ana"},
            files={"header_file": ("lino.png", PNG, "image/png")},
            headers=htmx(desk.token, "composer"),
        )
        assert sent.status_code == 200, sent.text
        await desk.w.settle()
        [delivered] = await sent_to_customer(desk)
        header = delivered["request"]["template"]["components"][0]  # type: ignore[index]
        media_id = header["parameters"][0]["image"]["id"]
        assert desk.w.sim.sim.state.media[media_id].data == PNG and delivered["status"] != "failed"
        [mine] = await outbound(desk)
        attachment = await attachment_of(desk, mine.id)
        html = (await desk.client.get(f"/conversations/{cid}/messages")).text
        assert f'<img src="/media/{attachment.id}"' in html and "template-tag" in html
        phone = (await desk.w.sim.client.get("/_sim/thread", params={"wa_id": CUSTOMER})).json()
        shown = [item for item in phone["items"] if item["dir"] == "out"][-1]["render"]
        assert shown["header"] == {"type": "image", "media_id": media_id}

    async def test_the_api_takes_header_links_and_button_values(self, desk: Desk) -> None:
        await inbound(desk.w, "text", "Hola")
        await self.add_templates(desk)
        cid = await conversation_id(desk)
        url = f"/api/v1/conversations/{cid}/messages"
        auth = desk.w.world.auth
        missing = await desk.client.post(
            url,
            json={"type": "template", "template": {"name": "pedido_enviado", "language": "es", "body": ["Ana"]}},
            headers=auth,
        )
        assert missing.status_code == 422 and missing.json()["error"]["code"] == "template_params"
        no_image = await desk.client.post(
            url,
            json={"type": "template", "template": {"name": "nueva_coleccion", "language": "es", "body": ["Ana"]}},
            headers=auth,
        )
        assert no_image.status_code == 422 and no_image.json()["error"]["code"] == "template_header_media"
        for template in (
            {"name": "pedido_enviado", "language": "es", "header": ["CO-9"], "body": ["Ana"], "buttons": ["CO-9"]},
            {
                "name": "nueva_coleccion",
                "language": "es",
                "body": ["Ana"],
                "header_media": {"link": "https://tienda.example/lino.jpg"},
            },
        ):
            response = await desk.client.post(url, json={"type": "template", "template": template}, headers=auth)
            assert response.status_code == 201, response.text
        await desk.w.settle()
        delivered = await sent_to_customer(desk)
        assert [m["status"] != "failed" for m in delivered] == [True, True]
        header = delivered[1]["request"]["template"]["components"][0]  # type: ignore[index]
        assert header == {
            "type": "header",
            "parameters": [{"type": "image", "image": {"link": "https://tienda.example/lino.jpg"}}],
        }
        html = (await desk.client.get(f"/conversations/{cid}/messages")).text
        assert 'class="media media--link" href="https://tienda.example/lino.jpg"' in html
        assert 'data-button-type="url" title="https://tienda.example/envios/CO-9"' in html

    async def test_the_api_uploads_a_header_file(self, desk: Desk) -> None:
        """The template picker's upload, through the API: in a conversation and business-initiated."""
        await inbound(desk.w, "text", "Hola")
        await self.add_templates(desk)
        cid = await conversation_id(desk)
        auth = desk.w.world.auth
        url = f"/api/v1/conversations/{cid}/messages/template"
        template = json.dumps({"name": "nueva_coleccion", "language": "es", "body": ["Ana"]})
        photo = {"header_file": ("lino.png", PNG, "image/png")}

        not_json = await desk.client.post(url, data={"template": "{nope"}, files=photo, headers=auth)
        assert not_json.status_code == 422 and not_json.json()["error"]["code"] == "invalid_template"
        no_name = await desk.client.post(url, data={"template": '{"language": "es"}'}, files=photo, headers=auth)
        assert no_name.status_code == 422 and "name" in no_name.json()["error"]["message"]
        both = json.dumps(
            {
                "name": "nueva_coleccion",
                "language": "es",
                "body": ["Ana"],
                "header_media": {"link": "https://a.example/b.png"},
            }
        )
        two = await desk.client.post(url, data={"template": both}, files=photo, headers=auth)
        assert two.status_code == 422 and two.json()["error"]["code"] == "two_headers"
        gif = await desk.client.post(
            url, data={"template": template}, files={"header_file": ("a.gif", GIF, "image/gif")}, headers=auth
        )
        assert gif.status_code == 415 and gif.json()["error"]["message"]
        no_file = await desk.client.post(url, data={"template": template}, headers=auth)
        assert no_file.status_code == 422
        assert await sent_to_customer(desk) == []  # every refusal here, none left for Meta

        sent = await desk.client.post(url, data={"template": template}, files=photo, headers=auth)
        assert sent.status_code == 201, sent.text
        assert sent.json()["type"] == "template" and sent.json()["conversation_id"] == cid
        await desk.w.settle()
        [delivered] = await sent_to_customer(desk)
        header = delivered["request"]["template"]["components"][0]  # type: ignore[index]
        media_id = header["parameters"][0]["image"]["id"]
        assert desk.w.sim.sim.state.media[media_id].data == PNG and delivered["status"] != "failed"
        attachment = await attachment_of(desk, sent.json()["id"])
        assert attachment.mime_type == "image/png"

        # a shipping notice with the parcel's photo, to a customer who never wrote
        start = {"inbox_id": str(desk.w.world.inbox.id), "to": "+54 9 11 5566 7788", "template": template}
        started = await desk.client.post("/api/v1/messages/template", data=start, files=photo, headers=auth)
        assert started.status_code == 201, started.text
        await desk.w.settle()
        [first] = (await desk.w.sim.client.get("/_sim/messages", params={"to": "5491155667788"})).json()
        parameters = first["request"]["template"]["components"][0]["parameters"]
        assert desk.w.sim.sim.state.media[parameters[0]["image"]["id"]].data == PNG
        unknown_inbox = {**start, "inbox_id": "999999"}
        missing = await desk.client.post("/api/v1/messages/template", data=unknown_inbox, files=photo, headers=auth)
        assert missing.status_code == 404

    async def test_openapi_documents_the_header_file_operations(self, desk: Desk) -> None:
        spec = (await desk.client.get("/openapi.json")).json()
        for path in ("/api/v1/conversations/{conversation_id}/messages/template", "/api/v1/messages/template"):
            operation = spec["paths"][path]["post"]
            assert "multipart/form-data" in operation["requestBody"]["content"], path
            assert {"201", "413", "415", "422"} <= set(operation["responses"]), path
