"""pywa's async client, an independent Cloud API implementation, talks to the simulator successfully."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pywa_async import WhatsApp
from pywa_async.types import Button
from pywa_async.types.templates import BodyText, TemplateLanguage
from simhelpers import PID, TOKEN, WABA, Receiver, inbound

from mostrador.simulator import RunningSimulator
from mostrador.simulator.media import tiny_png

USER = "5491155550000"


@pytest.fixture
async def wa(rs: RunningSimulator) -> AsyncIterator[WhatsApp]:
    # pywa sets session.base_url to https://graph.facebook.com/v26.0; the transport sends it to the simulator
    session = httpx.AsyncClient(transport=httpx.ASGITransport(app=rs.app))
    client = WhatsApp(phone_id=PID, token=TOKEN, session=session, waba_id=WABA)
    yield client
    await session.aclose()


async def _statuses(rs: RunningSimulator, wamid: str) -> list[str]:
    await rs.drain()
    sent = {m["wamid"]: m for m in (await rs.client.get("/_sim/messages", params={"to": USER})).json()}
    return [s["status"] for s in sent[wamid]["statuses"]]


async def test_pywa_sends_text_image_buttons_and_template(
    rs: RunningSimulator, receiver: Receiver, wa: WhatsApp
) -> None:
    await inbound(rs, USER)

    text = await wa.send_message(to=USER, text="Hola desde pywa")
    assert await _statuses(rs, text.id) == ["sent", "delivered", "read"]

    by_link = await wa.send_image(to=USER, image="https://example.com/catalogo.jpg", caption="Catálogo")
    assert await _statuses(rs, by_link.id) == ["sent", "delivered", "read"]

    by_upload = await wa.send_image(to=USER, image=tiny_png(), mime_type="image/png", caption="Subida")
    assert await _statuses(rs, by_upload.id) == ["sent", "delivered", "read"]
    request = rs.sim.state.sent[by_upload.id].request
    assert request["image"]["id"] in rs.sim.state.media

    buttons = await wa.send_message(
        to=USER,
        text="¿Confirmás?",
        buttons=[Button(title="Sí", callback_data="yes"), Button(title="No", callback_data="no")],
    )
    assert await _statuses(rs, buttons.id) == ["sent", "delivered", "read"]
    assert rs.sim.state.sent[buttons.id].render["buttons"] == [
        {"id": "yes", "title": "Sí"},
        {"id": "no", "title": "No"},
    ]

    await rs.client.post(
        f"/v26.0/{WABA}/message_templates",
        json={
            "name": "pedido_listo",
            "language": "es",
            "category": "UTILITY",
            "components": [
                {
                    "type": "BODY",
                    "text": "Hola {{1}}, tu pedido {{2}} está listo para retirar.",
                    "example": {"body_text": [["Ana", "A-12"]]},
                }
            ],
        },
    )
    await rs.drain()
    tpl = await wa.send_template(
        to=USER, name="pedido_listo", language=TemplateLanguage.SPANISH, params=[BodyText.params("Ana", "A-99")]
    )
    assert await _statuses(rs, tpl.id) == ["sent", "delivered", "read"]
    assert rs.sim.state.sent[tpl.id].render["body"] == "Hola Ana, tu pedido A-99 está listo para retirar."

    media = await wa.get_media_url(rs.sim.state.sent[by_upload.id].request["image"]["id"])
    assert media.url.startswith("http://sim.test/")
    await wa.mark_message_as_read(message_id=await inbound(rs, USER, text="gracias"))


async def test_pywa_sees_graph_errors(rs: RunningSimulator, wa: WhatsApp) -> None:
    from pywa_async.errors import TemplateNotExists

    with pytest.raises(TemplateNotExists):
        await wa.send_template(to=USER, name="no_existe", language=TemplateLanguage.SPANISH)
