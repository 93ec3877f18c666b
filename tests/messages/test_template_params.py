"""Template parameters beyond the body: text header variable, image/video/document header (link, id or an uploaded
file), URL button suffix, copy-code coupon, quick-reply payloads; positional and named formats; checked locally."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from factories import World, make_world
from media_samples import PDF, PNG, Graph, open_conversation
from mostrador.channels.whatsapp.payloads import render_template_component
from mostrador.exceptions import MostradorError
from mostrador.media.service import MediaFile
from mostrador.message_templates.service import message_template as template_service
from mostrador.messages.schemas import TemplateHeaderMedia, TemplateParameters
from mostrador.messages.service import Sender
from mostrador.messages.service import message as message_service
from mostrador.models import (
    Attachment,
    Contact,
    Conversation,
    Inbox,
    Message,
    MessageStatus,
    MessageTemplate,
    SenderKind,
)
from mostrador.runtime import Runtime
from mostrador.worker.backends import InProcessJobBackend

TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "pedido_enviado",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}} en camino"},
            {"type": "BODY", "text": "Hola {{1}}, tu pedido llegará mañana."},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "URL", "text": "Seguir mi pedido", "url": "https://tienda.example/envios/{{1}}"},
                    {"type": "PHONE_NUMBER", "text": "Llamar", "phone_number": "+34910000000"},
                ],
            },
        ],
    },
    {
        "name": "nueva_coleccion",
        "category": "MARKETING",
        "components": [
            {"type": "HEADER", "format": "IMAGE"},
            {"type": "BODY", "text": "Hola {{1}}, llegó la colección nueva."},
            {
                "type": "BUTTONS",
                "buttons": [{"type": "QUICK_REPLY", "text": "Quiero verla"}, {"type": "QUICK_REPLY", "text": "No"}],
            },
        ],
    },
    {
        "name": "factura",
        "components": [{"type": "HEADER", "format": "DOCUMENT"}, {"type": "BODY", "text": "Aquí tienes tu factura."}],
    },
    {
        "name": "cupon",
        "category": "MARKETING",
        "parameter_format": "NAMED",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Para {{nombre}}"},
            {"type": "BODY", "text": "Hola {{nombre}}, usa el código antes del {{fecha}} en la tienda."},
            {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "OLIVO10"}]},
        ],
    },
]


@pytest.fixture
async def world(runtime: Runtime) -> World:
    world = await make_world(runtime)
    async with runtime.unit_of_work() as session:
        for spec in TEMPLATES:
            session.add(
                MessageTemplate(
                    account_id=world.account.id,
                    inbox_id=world.inbox.id,
                    name=spec["name"],
                    language="es",
                    category=spec.get("category", "UTILITY"),
                    status="APPROVED",
                    parameter_format=spec.get("parameter_format", "POSITIONAL"),
                    components=spec["components"],
                )
            )
    return world


async def render(runtime: Runtime, world: World, **params: Any) -> Any:
    async with runtime.unit_of_work() as session:
        inbox = await session.get(Inbox, world.inbox.id)
        assert inbox is not None
        return await template_service.render(session, inbox, TemplateParameters(language="es", **params))


async def refused(runtime: Runtime, world: World, **params: Any) -> MostradorError:
    with pytest.raises(MostradorError) as error:
        await render(runtime, world, **params)
    assert error.value.status_code == 422
    return error.value


def components(rendered: Any) -> list[dict[str, Any]]:
    return [render_template_component(c) for c in rendered.body.components]


class TestHeaderAndButtons:
    async def test_text_header_variable_and_url_button_suffix(self, runtime: Runtime, world: World) -> None:
        rendered = await render(
            runtime, world, name="pedido_enviado", header=["CO-77"], body=["Ana"], buttons=["CO-77/detalle"]
        )
        assert components(rendered) == [
            {"type": "header", "parameters": [{"type": "text", "text": "CO-77"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": "CO-77/detalle"}],
            },
        ]
        assert rendered.text.startswith("*Pedido CO-77 en camino*\nHola Ana")
        assert rendered.buttons[0].url == "https://tienda.example/envios/CO-77/detalle"
        assert rendered.buttons[1].type == "phone_number"

    async def test_a_missing_url_suffix_or_header_variable_is_refused_locally(
        self, runtime: Runtime, world: World
    ) -> None:
        no_suffix = await refused(runtime, world, name="pedido_enviado", header=["CO-77"], body=["Ana"])
        assert no_suffix.code == "template_params" and "Seguir mi pedido" in no_suffix.message
        no_header = await refused(runtime, world, name="pedido_enviado", body=["Ana"], buttons=["CO-77"])
        assert no_header.code == "template_params"
        spaces = await refused(runtime, world, name="pedido_enviado", header=["CO-77"], body=["Ana"], buttons=["CO 77"])
        assert "spaces" in spaces.message
        static_button = await refused(
            runtime, world, name="pedido_enviado", header=["CO-77"], body=["Ana"], buttons=["CO-77", "+34"]
        )
        assert "takes no value" in static_button.message

    async def test_image_header_by_link_and_optional_quick_reply_payloads(self, runtime: Runtime, world: World) -> None:
        rendered = await render(
            runtime,
            world,
            name="nueva_coleccion",
            body=["Ana"],
            header_media=TemplateHeaderMedia(link="https://tienda.example/lino.jpg"),
            buttons=[None, "NO_MARKETING"],
        )
        assert components(rendered) == [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://tienda.example/lino.jpg"}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "1",
                "parameters": [{"type": "payload", "payload": "NO_MARKETING"}],
            },
        ]
        assert rendered.header_link == "https://tienda.example/lino.jpg"

    async def test_a_media_header_is_required_and_must_be_of_its_kind(self, runtime: Runtime, world: World) -> None:
        missing = await refused(runtime, world, name="nueva_coleccion", body=["Ana"])
        assert missing.code == "template_header_media"
        wrong = await refused(
            runtime,
            world,
            name="nueva_coleccion",
            body=["Ana"],
            header_media=TemplateHeaderMedia(type="video", link="https://tienda.example/a.mp4"),
        )
        assert wrong.code == "template_header_media"
        no_header = await refused(
            runtime,
            world,
            name="pedido_enviado",
            header=["1"],
            body=["Ana"],
            buttons=["1"],
            header_media=TemplateHeaderMedia(media_id="123"),
        )
        assert no_header.code == "template_params"

    async def test_document_header_by_id_keeps_its_filename(self, runtime: Runtime, world: World) -> None:
        rendered = await render(
            runtime, world, name="factura", header_media=TemplateHeaderMedia(media_id="987", filename="F-12.pdf")
        )
        assert components(rendered)[0] == {
            "type": "header",
            "parameters": [{"type": "document", "document": {"id": "987", "filename": "F-12.pdf"}}],
        }

    async def test_named_variables_and_coupon_code(self, runtime: Runtime, world: World) -> None:
        rendered = await render(
            runtime,
            world,
            name="cupon",
            header={"nombre": "Ana"},
            body={"fecha": "31 de marzo", "nombre": "Ana"},
            buttons=["OLIVO10"],
        )
        assert components(rendered) == [
            {"type": "header", "parameters": [{"type": "text", "text": "Ana", "parameter_name": "nombre"}]},
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Ana", "parameter_name": "nombre"},
                    {"type": "text", "text": "31 de marzo", "parameter_name": "fecha"},
                ],
            },
            {
                "type": "button",
                "sub_type": "copy_code",
                "index": "0",
                "parameters": [{"type": "coupon_code", "coupon_code": "OLIVO10"}],
            },
        ]
        too_long = await refused(
            runtime,
            world,
            name="cupon",
            header={"nombre": "Ana"},
            body={"fecha": "hoy", "nombre": "Ana"},
            buttons=["X" * 16],
        )
        assert "15" in too_long.message
        positional = await refused(runtime, world, name="cupon", header=["Ana"], body=["Ana", "hoy"], buttons=["A"])
        assert "named" in positional.message
        missing = await refused(
            runtime, world, name="cupon", header={"nombre": "Ana"}, body={"nombre": "Ana"}, buttons=["A"]
        )
        assert "fecha" in missing.message

    async def test_the_preview_shows_what_is_missing(self, runtime: Runtime, world: World) -> None:
        async with runtime.unit_of_work() as session:
            inbox = await session.get(Inbox, world.inbox.id)
            assert inbox is not None
            params = TemplateParameters(name="pedido_enviado", language="es", header=[""], body=[""])
            rendered = await template_service.render(session, inbox, params, preview=True)
        assert rendered.text.startswith("*Pedido {{1}} en camino*\nHola {{1}}")
        assert rendered.buttons[0].url == "https://tienda.example/envios/{{1}}"


class TestUploadedHeader:
    async def test_an_uploaded_header_image_is_uploaded_then_sent_by_id(
        self, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        graph = Graph()
        runtime.graph_transport = httpx.MockTransport(graph.handler)
        cid = await open_conversation(runtime, world, window_open=False)  # templates go out with the window closed
        async with runtime.unit_of_work() as session:
            conversation = await session.get(Conversation, cid)
            assert conversation is not None
            inbox = await session.get(Inbox, conversation.inbox_id)
            contact = await session.get(Contact, conversation.contact_id)
            assert inbox is not None and contact is not None
            queued = await message_service.send_template(
                session,
                inbox,
                conversation,
                contact,
                Sender(SenderKind.agent, world.admin),
                TemplateParameters(name="nueva_coleccion", language="es", body=["Ana"]),
                header_file=MediaFile(PNG, "lino.png", "image/png"),
                store=runtime.media,
            )
        await jobs.drain(timeout=30)
        async with runtime.unit_of_work() as session:
            message = await session.get(Message, queued.id)
            attachment = (await session.execute(select(Attachment))).scalar_one()
        assert message is not None and message.status is MessageStatus.sent and message.type == "template"
        assert attachment.message_id == queued.id and attachment.kind == "image"
        assert attachment.provider_media_id == "media-1" and len(graph.uploads) == 1
        header = graph.sends[0]["template"]["components"][0]  # type: ignore[index]
        assert header == {"type": "header", "parameters": [{"type": "image", "image": {"id": "media-1"}}]}

    async def test_the_header_file_must_be_what_the_template_needs(self, runtime: Runtime, world: World) -> None:
        cid = await open_conversation(runtime, world, window_open=False)
        async with runtime.unit_of_work() as session:
            conversation = await session.get(Conversation, cid)
            assert conversation is not None
            inbox = await session.get(Inbox, conversation.inbox_id)
            contact = await session.get(Contact, conversation.contact_id)
            assert inbox is not None and contact is not None
            with pytest.raises(MostradorError) as error:
                await message_service.send_template(
                    session,
                    inbox,
                    conversation,
                    contact,
                    Sender(SenderKind.agent, world.admin),
                    TemplateParameters(name="nueva_coleccion", language="es", body=["Ana"]),
                    header_file=MediaFile(PDF, "catalogo.pdf", "application/pdf"),
                    store=runtime.media,
                )
        assert error.value.code == "template_header_media"
        async with runtime.unit_of_work() as session:
            assert (await session.execute(select(Message))).first() is None
