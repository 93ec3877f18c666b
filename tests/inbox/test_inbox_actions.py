"""Header actions go through conversation.update: the change shows, an activity line appears; the contact panel."""

from __future__ import annotations

from inboxhelpers import Desk, htmx, inbound
from sqlalchemy import select, update

from factories import make_inbox, make_user
from mostrador.contacts.service import contact as contact_service
from mostrador.conversations.service import conversation as conversation_service
from mostrador.inboxes.schemas import InboxUpdate
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.labels.schemas import LabelCreate
from mostrador.labels.service import label as label_service
from mostrador.models import Account, Contact, Conversation, ConversationStatus, Message, Priority, Role
from mostrador.teams.schemas import TeamCreate
from mostrador.teams.service import team as team_service


async def state(desk: Desk) -> tuple[Conversation, list[str]]:
    async with desk.w.runtime.unit_of_work() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
        lines = list(
            (
                await session.execute(select(Message.text).where(Message.type == "activity").order_by(Message.id))
            ).scalars()
        )
    return conversation, lines


async def test_assign_team_labels_priority_snooze_resolve_reopen(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    account = desk.w.world.account
    agent = await make_user(desk.w.runtime, account, "lucia@casaolivo.example", Role.agent, name="Lucía Agente")
    async with desk.w.runtime.unit_of_work() as session:
        team = await team_service.create(session, account.id, TeamCreate(name="Ventas"))
        await label_service.create(session, account.id, LabelCreate(name="vip"))
        await label_service.create(session, account.id, LabelCreate(name="devolución"))
    conversation, _ = await state(desk)
    cid = conversation.id
    headers = htmx(desk.token, "conversation-header")

    response = await desk.client.post(f"/conversations/{cid}/assign", data={"assignee_id": agent.id}, headers=headers)
    assert response.status_code == 200
    assert "mostrador:refresh-thread" in response.headers["HX-Trigger"]
    assert 'id="conversation-header"' in response.text and "Lucía Agente" in response.text
    await desk.client.post(f"/conversations/{cid}/team", data={"team_id": team.id}, headers=headers)
    await desk.client.post(f"/conversations/{cid}/labels", data={"labels": ["vip", "devolución"]}, headers=headers)
    await desk.client.post(f"/conversations/{cid}/priority", data={"priority": "urgent"}, headers=headers)
    conversation, lines = await state(desk)
    assert conversation.assignee_id == agent.id and conversation.team_id == team.id
    assert conversation.priority is Priority.urgent
    assert len(lines) == 4 and any("Lucía Agente" in line for line in lines)

    html = (await desk.client.get(f"/conversations/{cid}")).text
    for line in lines:
        assert line in html  # activity lines are in the thread
    assert html.count('class="activity"') >= 4

    past = await desk.client.post(f"/conversations/{cid}/snooze", data={"until": "2001-01-01T10:00"}, headers=headers)
    assert "Elige un momento en el futuro" in past.text
    snoozed = await desk.client.post(
        f"/conversations/{cid}/snooze", data={"until": "2099-03-01T09:30"}, headers=headers
    )
    assert snoozed.status_code == 200
    conversation, _ = await state(desk)
    assert conversation.status is ConversationStatus.snoozed
    assert conversation.snoozed_until is not None
    # 09:30 in Madrid (the account's time zone) is 08:30 UTC in March
    assert conversation.snoozed_until.hour == 8 and conversation.snoozed_until.minute == 30

    await desk.client.post(f"/conversations/{cid}/status", data={"status": "resolved"}, headers=headers)
    conversation, _ = await state(desk)
    assert conversation.status is ConversationStatus.resolved
    reopened = await desk.client.post(f"/conversations/{cid}/status", data={"status": "open"}, headers=headers)
    assert "Reabrir" not in reopened.text and "Resolver" in reopened.text
    conversation, lines = await state(desk)
    assert conversation.status is ConversationStatus.open
    assert len(lines) == 7

    unassigned = await desk.client.post(f"/conversations/{cid}/assign", data={"assignee_id": ""}, headers=headers)
    assert unassigned.status_code == 200
    conversation, _ = await state(desk)
    assert conversation.assignee_id is None


async def test_bad_action_values_are_toasts_not_500s(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    conversation, _ = await state(desk)
    headers = htmx(desk.token, "conversation-header")
    for path, data in [
        ("assign", {"assignee_id": "999999"}),
        ("assign", {"assignee_id": "0"}),
        ("assign", {"assignee_id": "nadie"}),  # garbage is refused, not read as "unassign"
        ("team", {"team_id": "99999999999999999999"}),
        ("labels", {"labels": ["no-existe"]}),
        ("priority", {"priority": "altísima"}),
        ("status", {"status": "snoozed"}),
        ("snooze", {"until": "mañana"}),
    ]:
        response = await desk.client.post(f"/conversations/{conversation.id}/{path}", data=data, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
        assert "toast--error" in response.text, path
    _, lines = await state(desk)
    assert lines == []


async def test_absurd_ids_and_unstorable_text_are_4xx_not_500s(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    conversation, _ = await state(desk)
    cid, big = conversation.id, "99999999999999999999"
    for path in [
        f"/conversations/{big}",
        f"/conversations/{cid}/messages?before={big}",
        f"/conversations/{cid}/messages?after=-1",
        f"/conversations/{cid}/messages/{big}",
        f"/inbox/row/{big}?view=all",
        f"/media/{big}",
        f"/settings/inboxes/{big}",
    ]:
        response = await desk.client.get(path)
        assert response.status_code == 404, (path, response.status_code)
    for path in [f"/conversations/{big}/assign", f"/settings/labels/{big}/delete", f"/settings/teams/{big}"]:
        response = await desk.client.post(path, data={"name": "x"}, headers=htmx(desk.token))
        assert response.status_code == 404, (path, response.status_code)
    # filters with an impossible id are ignored, like any other unusable filter
    assert (await desk.client.get("/?view=all&inbox=0&label=0&team=0")).status_code == 200
    assert (await desk.client.get("/inbox/rows?view=all&inbox=0")).status_code == 200
    # west of Greenwich, the last minute of 9999 is already year 10000 in UTC
    async with desk.w.runtime.unit_of_work() as session:
        await session.execute(update(Account).values(timezone="America/Mexico_City"))
    late = await desk.client.post(
        f"/conversations/{cid}/snooze", data={"until": "9999-12-31T23:59"}, headers=htmx(desk.token)
    )
    assert late.status_code == 200 and "toast--error" in late.text
    # PostgreSQL stores no NUL character: the agent reads why instead of a crash (SQLite keeps it)
    note = await desk.client.post(
        f"/conversations/{cid}/messages", data={"mode": "note", "text": "nota\x00"}, headers=htmx(desk.token)
    )
    assert note.status_code in (200, 422), note.status_code
    if note.status_code == 422:
        assert "NUL" in note.text and "toast" in note.text
    search = await desk.client.get("/", params={"view": "all", "q": "ho\x00la"})
    assert search.status_code in (200, 422)


async def test_contact_panel_edits_name_language_and_attributes(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    conversation, _ = await state(desk)
    cid = conversation.id
    headers = htmx(desk.token, "contact-panel")
    saved = await desk.client.post(
        f"/conversations/{cid}/contact",
        data={
            "name": "Ana M. <b>",
            "language": "pt",
            "attr_key": ["pedido", "ciudad"],
            "attr_value": ["A-17", "Sevilla"],
        },
        headers=headers,
    )
    assert saved.status_code == 200
    assert "Contacto guardado." in saved.text and "Ana M. &lt;b&gt;" in saved.text
    assert 'value="Sevilla"' in saved.text
    removed = await desk.client.post(
        f"/conversations/{cid}/contact",
        data={"name": "Ana M.", "language": "pt", "attr_key": ["pedido", "ciudad"], "attr_value": ["A-18", ""]},
        headers=headers,
    )
    assert removed.status_code == 200
    async with desk.w.runtime.unit_of_work() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert contact.name == "Ana M." and contact.language == "pt"
    assert contact.custom_attributes == {"pedido": "A-18"}


async def test_contact_panel_clears_the_language(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    conversation, _ = await state(desk)
    cid = conversation.id
    headers = htmx(desk.token, "contact-panel")
    await desk.client.post(f"/conversations/{cid}/contact", data={"name": "Ana", "language": "en"}, headers=headers)
    cleared = await desk.client.post(
        f"/conversations/{cid}/contact", data={"name": "Ana", "language": ""}, headers=headers
    )
    assert cleared.status_code == 200
    assert '<option value="" selected>' in cleared.text and '<option value="en" selected>' not in cleared.text
    async with desk.w.runtime.unit_of_work() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert contact.language is None and contact.name == "Ana"


async def test_contact_panel_bad_language_is_a_form_error(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola")
    conversation, _ = await state(desk)
    response = await desk.client.post(
        f"/conversations/{conversation.id}/contact",
        data={"name": "Ana", "language": "klingon"},
        headers=htmx(desk.token, "contact-panel"),
    )
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    # the error marks the language field, not the name
    assert 'class="field field--error">\n      <label class="field__label" for="contact-language' in response.text


async def test_contact_panel_lists_past_conversations(desk: Desk) -> None:
    await inbound(desk.w, "text", "Primera vez")
    first, _ = await state(desk)
    await desk.client.post(f"/conversations/{first.id}/status", data={"status": "resolved"}, headers=htmx(desk.token))
    await inbound(desk.w, "text", "Segunda vez")
    async with desk.w.runtime.unit_of_work() as session:
        ids = list((await session.execute(select(Conversation.id).order_by(Conversation.id))).scalars())
    assert len(ids) == 2
    html = (await desk.client.get(f"/conversations/{ids[1]}")).text
    panel = html[html.find('class="contact__past"') :]
    assert f'href="/conversations/{ids[0]}"' in panel and f'href="/conversations/{ids[1]}"' in panel
    assert "Resuelta" in panel


async def test_contact_panel_lists_conversations_from_every_inbox(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola desde la tienda")
    first, _ = await state(desk)
    account = desk.w.world.account
    other = await make_inbox(desk.w.runtime, account, phone_number_id="777000111", waba_id="777000222")
    async with desk.w.runtime.unit_of_work() as session:
        await inbox_service.update(session, account.id, other.id, InboxUpdate(name="Tienda Norte"))
        inbox = await inbox_service.get(session, account.id, other.id)
        contact = await contact_service.get(session, account.id, first.contact_id)
        second = await conversation_service.route_inbound(session, inbox, contact)
    assert second.id != first.id and second.inbox_id == other.id
    for cid in (first.id, second.id):
        html = (await desk.client.get(f"/conversations/{cid}")).text
        panel = html[html.find('class="contact__past"') :]
        assert f'href="/conversations/{first.id}"' in panel and f'href="/conversations/{second.id}"' in panel
        assert "Tienda Norte" in panel and "WhatsApp tiendas" in panel


async def test_going_online_from_the_switch_takes_a_waiting_conversation(desk: Desk) -> None:
    await inbound(desk.w, "text", "Hola, ¿hay alguien?")  # nobody is online: it waits in the queue
    conversation, lines = await state(desk)
    assert conversation.assignee_id is None and lines == []
    response = await desk.client.post("/me/availability", data={"availability": "online"}, headers=htmx(desk.token))
    assert response.status_code == 200
    await desk.w.settle()
    conversation, lines = await state(desk)
    admin = desk.w.world.admin
    assert conversation.assignee_id == admin.id
    assert lines == [f"Asignada automáticamente a {admin.name}"]
    header = (await desk.client.get(f"/conversations/{conversation.id}/header")).text
    assert admin.name in header
