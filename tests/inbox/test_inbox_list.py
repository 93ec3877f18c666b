"""The conversation list: views, status tabs, nav filters, full-text search, keyset pages, empty state, rows."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from inboxhelpers import Desk, htmx, inbound, login, many_customers
from sqlalchemy import select, update

from factories import make_inbox, make_user, make_world
from mostrador.labels.schemas import LabelCreate
from mostrador.labels.service import label as label_service
from mostrador.models import Conversation, ConversationStatus, Role
from mostrador.runtime import Runtime
from mostrador.teams.schemas import TeamCreate
from mostrador.teams.service import team as team_service

ROW = re.compile(r'id="row-(\d+)"')


def rows(html: str) -> list[int]:
    return [int(x) for x in ROW.findall(html)]


async def all_ids(desk: Desk) -> list[int]:
    async with desk.w.runtime.unit_of_work() as session:
        return list((await session.execute(select(Conversation.id).order_by(Conversation.id))).scalars())


async def test_views_tabs_and_nav_filters(desk: Desk) -> None:
    await many_customers(desk.w, 4)
    ids = await all_ids(desk)
    account = desk.w.world.account
    admin = desk.w.world.admin
    other = await make_user(desk.w.runtime, account, "otro@casaolivo.example", Role.agent, name="Otro Agente")
    async with desk.w.runtime.unit_of_work() as session:
        team = await team_service.create(session, account.id, TeamCreate(name="Soporte"))
        label = await label_service.create(session, account.id, LabelCreate(name="urgente"))
    headers = htmx(desk.token, "conversation-header")
    await desk.client.post(f"/conversations/{ids[0]}/assign", data={"assignee_id": admin.id}, headers=headers)
    await desk.client.post(f"/conversations/{ids[1]}/assign", data={"assignee_id": other.id}, headers=headers)
    await desk.client.post(f"/conversations/{ids[2]}/team", data={"team_id": team.id}, headers=headers)
    await desk.client.post(f"/conversations/{ids[2]}/labels", data={"labels": ["urgente"]}, headers=headers)
    await desk.client.post(f"/conversations/{ids[3]}/status", data={"status": "pending"}, headers=headers)

    assert rows((await desk.client.get("/")).text) == [ids[0]]  # "mine" by default
    assert sorted(rows((await desk.client.get("/?view=unassigned")).text)) == [ids[2]]
    assert sorted(rows((await desk.client.get("/?view=all")).text)) == ids[:3]
    assert rows((await desk.client.get("/?view=all&status=pending")).text) == [ids[3]]
    assert rows((await desk.client.get("/?view=all&status=resolved")).text) == []
    assert rows((await desk.client.get(f"/?view=all&team={team.id}")).text) == [ids[2]]
    assert rows((await desk.client.get(f"/?view=all&label={label.id}")).text) == [ids[2]]
    assert sorted(rows((await desk.client.get(f"/?view=all&inbox={desk.w.world.inbox.id}")).text)) == ids[:3]
    page = (await desk.client.get("/?view=all")).text
    assert "Otro Agente" in page and "Sin asignar" in page
    # the row endpoint follows the same filters: a row that left the view comes back empty
    assert (await desk.client.get(f"/inbox/row/{ids[3]}?view=all&status=open")).text == ""
    assert f'id="row-{ids[3]}"' in (await desk.client.get(f"/inbox/row/{ids[3]}?view=all&status=pending")).text


async def test_search_uses_full_text(desk: Desk) -> None:
    await inbound(desk.w, "text", "Quiero devolver la chaqueta de lana", wa_id="34600000001", name="Marta")
    await inbound(desk.w, "text", "¿A qué hora abren mañana?", wa_id="34600000002", name="Pedro")
    ids = await all_ids(desk)
    found = await desk.client.get("/", params={"view": "all", "q": "chaqueta"})
    assert rows(found.text) == [ids[0]]
    assert 'value="chaqueta"' in found.text
    fragment = await desk.client.get(
        "/", params={"view": "all", "q": "abren"}, headers=htmx(desk.token, "conversation-list")
    )
    assert "<html" not in fragment.text and rows(fragment.text) == [ids[1]]
    nothing = await desk.client.get("/", params={"view": "all", "q": "bicicleta"})
    assert rows(nothing.text) == [] and "No se encontró nada" in nothing.text


async def test_keyset_pages_do_not_overlap(desk: Desk) -> None:
    await many_customers(desk.w, 30)
    first = (await desk.client.get("/?view=all")).text
    page1 = rows(first)
    assert len(page1) == 25
    match = re.search(r'hx-get="/inbox/rows\?([^"]+)"', first)
    assert match, "no load-more loader"
    assert "cursor=" in match.group(1) and "offset" not in match.group(1)
    second = (await desk.client.get("/inbox/rows?" + match.group(1).replace("&amp;", "&"))).text
    page2 = rows(second)
    assert len(page2) == 5 and not set(page1) & set(page2)
    assert sorted(page1 + page2) == await all_ids(desk)
    assert "data-load-more" not in second
    # newest activity first
    async with desk.w.runtime.unit_of_work() as session:
        order = list(
            (
                await session.execute(
                    select(Conversation.id).order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
                )
            ).scalars()
        )
    assert page1 + page2 == order


async def test_bad_cursor_is_a_page_not_a_crash(desk: Desk) -> None:
    response = await desk.client.get("/inbox/rows?view=all&cursor=not-a-cursor")
    assert response.status_code == 400
    assert "<html" in response.text or "toast" in response.text


@pytest.mark.parametrize("demo", [True, False])
async def test_empty_state_on_day_one(runtime: Runtime, app: FastAPI, client: httpx.AsyncClient, demo: bool) -> None:
    app.state.demo = demo
    world = await make_world(runtime)
    await login(client, world.admin.email)
    html = (await client.get("/")).text
    assert "No hay conversaciones aquí" in html
    assert ('href="/sim/phone"' in html) is demo


async def test_row_shows_inbox_name_when_there_are_several(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    await make_inbox(desk.w.runtime, desk.w.world.account, phone_number_id="777000111", waba_id="777000222")
    html = (await desk.client.get("/?view=all")).text
    row = html[html.find('id="row-') :]
    assert "WhatsApp tiendas" in row[: row.find("</a>")]


async def test_resolved_conversation_leaves_open_tab(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    (cid,) = await all_ids(desk)
    async with desk.w.runtime.unit_of_work() as session:
        await session.execute(update(Conversation).values(status=ConversationStatus.resolved))
    assert rows((await desk.client.get("/?view=all")).text) == []
    assert rows((await desk.client.get("/?view=all&status=resolved")).text) == [cid]
