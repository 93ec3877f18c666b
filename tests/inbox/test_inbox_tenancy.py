"""An agent of account A never reads or acts on account B's conversations: pages, fragments, actions, media, SSE."""

from __future__ import annotations

import asyncio

import httpx
from inboxhelpers import Desk, event_stream, htmx, inbound
from sqlalchemy import select

from factories import make_user, make_world
from mostrador.models import Attachment, Conversation, Message, Role
from mostrador.realtime.events import account_channel
from mostrador.realtime.pubsub import MemoryPubSub


async def test_every_route_refuses_another_accounts_conversation(runtime, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    await inbound(desk.w, "image", {"caption": "secreto de A"}, name="Cliente Secreto A")
    async with runtime.unit_of_work() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
        message = (await session.execute(select(Message))).scalar_one()
        attachment = (await session.execute(select(Attachment))).scalar_one()
    cid, mid = conversation.id, message.id
    before = await desk.client.get(f"/media/{attachment.id}")
    assert before.status_code == 200

    # an agent of another account signs in on a separate client
    other = await make_world(runtime, suffix="b", phone_number_id="9990001", waba_id="9990002")
    intruder = await make_user(runtime, other.account, "intruso@otra.example", Role.admin, name="Intruso")
    app = desk.client._transport.app  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mostrador.test") as b:
        from inboxhelpers import login

        token = await login(b, intruder.email)
        gets = [
            f"/conversations/{cid}",
            f"/conversations/{cid}/messages",
            f"/conversations/{cid}/messages?after=0",
            f"/conversations/{cid}/messages/{mid}",
            f"/conversations/{cid}/header",
            f"/conversations/{cid}/composer",
            f"/conversations/{cid}/template-form?template_id=1",
            f"/conversations/{cid}/template-preview?template_id=1",
            f"/conversations/{cid}/canned?text=/",
            f"/inbox/row/{cid}?view=all",
            f"/media/{attachment.id}",
            f"/media/{attachment.id}?download=1",
        ]
        for path in gets:
            for headers in ({}, htmx(token, "conversation")):
                response = await b.get(path, headers=headers)
                assert response.status_code == 404, (path, response.status_code)
                assert "secreto" not in response.text.lower() and "Cliente Secreto" not in response.text, path
        posts = [
            (f"/conversations/{cid}/messages", {"mode": "reply", "text": "hola"}),
            (f"/conversations/{cid}/messages", {"mode": "note", "text": "nota"}),
            (f"/conversations/{cid}/messages/{mid}/resend", {}),
            (f"/conversations/{cid}/template", {"template_id": "1"}),
            (f"/conversations/{cid}/typing", {}),
            (f"/conversations/{cid}/assign", {"assignee_id": str(intruder.id)}),
            (f"/conversations/{cid}/team", {"team_id": ""}),
            (f"/conversations/{cid}/priority", {"priority": "urgent"}),
            (f"/conversations/{cid}/labels", {"labels": []}),
            (f"/conversations/{cid}/status", {"status": "resolved"}),
            (f"/conversations/{cid}/snooze", {"until": "2099-01-01T10:00"}),
            (f"/conversations/{cid}/contact", {"name": "hackeado"}),
        ]
        for path, data in posts:
            response = await b.post(path, data=data, headers=htmx(token))
            assert response.status_code == 404, (path, response.status_code)
        # their own lists never show it
        for path in ["/?view=all", "/?view=all&q=secreto", "/inbox/rows?view=all", "/?view=unassigned"]:
            html = (await b.get(path)).text
            assert "Cliente Secreto" not in html and f'id="row-{cid}"' not in html, path

    async with runtime.unit_of_work() as session:
        unchanged = (await session.execute(select(Conversation))).scalars().all()
        texts = list((await session.execute(select(Message.type))).scalars())
    assert [c.assignee_id for c in unchanged if c.id == cid] == [None]
    assert texts == ["image"]  # no note, no text, no activity line


async def test_sse_stream_only_carries_its_own_account() -> None:
    pubsub = MemoryPubSub()
    ready = asyncio.Event()
    stream = event_stream(pubsub, 1, is_disconnected=_never, subscribed=ready, poll_s=0.05)
    assert (await anext(stream)).event == "ready"
    waiting = asyncio.ensure_future(anext(stream))
    await ready.wait()
    await pubsub.publish(account_channel(2), {"type": "message.created", "conversation_id": 99})
    await pubsub.publish(account_channel(1), {"type": "message.created", "conversation_id": 7})
    event = await asyncio.wait_for(waiting, 2)
    assert event.event == "rt" and '"conversation_id":7' in str(event.data)
    await stream.aclose()


async def _never() -> bool:
    return False
