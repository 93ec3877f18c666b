"""The JSON API as a contract, route by route: another account's ids are a 404 everywhere, lists page with
cursors, and bad input is a 4xx ``{"error": {"code", "message"}}``, never a 500.

The route tests walk the application's own route table, so a new ``/api/v1`` route fails here until it is listed.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import func, select

from factories import World, make_user, make_world
from mostrador.canned_responses.schemas import CannedResponseCreate, CannedResponseUpdate
from mostrador.canned_responses.service import canned_response as canned_service
from mostrador.contacts.schemas import ContactCreate, ContactUpdate
from mostrador.contacts.service import contact as contact_service
from mostrador.conversations.schemas import ConversationUpdate
from mostrador.conversations.service import conversation as conversation_service
from mostrador.kit.ids import MAX_ID
from mostrador.labels.schemas import LabelCreate, LabelUpdate
from mostrador.labels.service import label as label_service
from mostrador.messages.schemas import NoteIn, StartConversationIn, TemplateMessageIn, TextMessageIn
from mostrador.models import Conversation, ConversationStatus, Label, Message, Role, User
from mostrador.runtime import Runtime
from mostrador.teams.schemas import TeamCreate, TeamMemberAdd, TeamUpdate
from mostrador.teams.service import team as team_service
from sim_wiring import Wired, wired

PARAM = re.compile(r"\{(\w+)\}")

# What each API route with an id gets (httpx keyword arguments): a body that passes validation, so the request
# reaches the tenancy check.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/inboxes/{inbox_id}"): {},
    ("GET", "/api/v1/contacts/{contact_id}"): {},
    ("PATCH", "/api/v1/contacts/{contact_id}"): {"json": {"name": "hackeado", "language": None}},
    ("GET", "/api/v1/conversations/{conversation_id}"): {},
    ("POST", "/api/v1/conversations/{conversation_id}/read"): {},
    ("PATCH", "/api/v1/conversations/{conversation_id}"): {"json": {"status": "resolved"}},
    ("GET", "/api/v1/conversations/{conversation_id}/messages"): {},
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): {"json": {"type": "note", "text": "nota intrusa"}},
    ("POST", "/api/v1/conversations/{conversation_id}/messages/media"): {
        "files": {"file": ("hola.txt", b"hola", "text/plain")}
    },
    ("POST", "/api/v1/conversations/{conversation_id}/messages/template"): {
        "data": {"template": '{"name": "hello_world", "language": "en_US"}'},
        "files": {"header_file": ("a.pdf", b"%PDF-1.4", "application/pdf")},
    },
    ("POST", "/api/v1/conversations/{conversation_id}/messages/{message_id}/resend"): {},
    ("PATCH", "/api/v1/labels/{label_id}"): {"json": {"name": "hackeada"}},
    ("DELETE", "/api/v1/labels/{label_id}"): {},
    ("PATCH", "/api/v1/teams/{team_id}"): {"json": {"name": "hackeado"}},
    ("DELETE", "/api/v1/teams/{team_id}"): {},
    ("POST", "/api/v1/teams/{team_id}/members"): {"json": {"user_id": 1}},  # the intruder's own id, below
    ("DELETE", "/api/v1/teams/{team_id}/members/{user_id}"): {},
    ("PATCH", "/api/v1/canned-responses/{response_id}"): {"json": {"content": "hackeado"}},
    ("DELETE", "/api/v1/canned-responses/{response_id}"): {},
}


def api_routes_with_ids(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path.startswith("/api/v1") and PARAM.search(route.path):
            found.extend((method, route.path) for method in sorted(route.methods))
    return found


@dataclass
class Owned:
    """Account A's rows, one of each kind an API path can name."""

    world: World
    ids: dict[str, int]
    label_name: str
    customer_phone: str


async def owned_by_a(w: Wired) -> Owned:
    world = w.world
    await w.customer_says("Mi pedido A-17 no ha llegado")
    async with w.runtime.unit_of_work() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
        message = (await session.execute(select(Message).where(Message.type == "text"))).scalar_one()
        label = await label_service.create(session, world.account.id, LabelCreate(name="secreta-a"))
        team = await team_service.create(session, world.account.id, TeamCreate(name="Equipo A"))
        await team_service.add_member(session, world.account.id, team.id, world.admin.id)
        canned = await canned_service.create(
            session, world.account.id, CannedResponseCreate(short_code="hola", content="Hola de A")
        )
        contact = await contact_service.get(session, world.account.id, conversation.contact_id)
        phone = contact.phone_e164 or ""
    ids = {
        "inbox_id": world.inbox.id,
        "contact_id": conversation.contact_id,
        "conversation_id": conversation.id,
        "message_id": message.id,
        "label_id": label.id,
        "team_id": team.id,
        "user_id": world.admin.id,
        "response_id": canned.id,
    }
    return Owned(world=world, ids=ids, label_name=label.name, customer_phone=phone)


@pytest.fixture
async def a_and_b(runtime: Runtime, app: FastAPI, client: httpx.AsyncClient) -> AsyncIterator[tuple[Owned, World]]:
    async with wired(runtime, app, client) as w:
        owned = await owned_by_a(w)
        intruder = await make_world(runtime, suffix="b", phone_number_id="9990001", waba_id="9990002")
        yield owned, intruder


@pytest.fixture
async def lenient(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees a crash as the 500 a user would get, instead of the exception."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mostrador.test") as c:
        yield c


def assert_error(response: httpx.Response, status: int | tuple[int, ...], what: object) -> None:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (what, response.status_code, response.text[:300])
    error = response.json()["error"]
    assert error["code"] and error["message"], what


class TestTenantIsolation:
    async def test_every_route_with_an_id_is_404_for_another_account(
        self, app: FastAPI, lenient: httpx.AsyncClient, runtime: Runtime, a_and_b: tuple[Owned, World]
    ) -> None:
        owned, b = a_and_b
        routes = api_routes_with_ids(app)
        unlisted = [route for route in routes if route not in BODIES]
        assert not unlisted, f"add these routes to BODIES: {unlisted}"
        for method, path in routes:
            url = PARAM.sub(lambda match: str(owned.ids[match.group(1)]), path)
            request = BODIES[(method, path)]
            if "user_id" in request.get("json", {}):
                request = {"json": {"user_id": b.admin.id}}
            response = await lenient.request(method, url, headers=b.auth, **request)
            assert_error(response, 404, (method, url))
            assert "secreta" not in response.text and "A-17" not in response.text

        async with runtime.unit_of_work() as session:
            conversation = await session.get(Conversation, owned.ids["conversation_id"])
            notes = (await session.execute(select(func.count()).where(Message.type == "note"))).scalar_one()
            label = await session.get(Label, owned.ids["label_id"])
            members = await team_service.members(session, owned.world.account.id, owned.ids["team_id"])
            canned = await canned_service.get(session, owned.world.account.id, owned.ids["response_id"])
        assert conversation is not None and conversation.status is ConversationStatus.open
        assert conversation.unread_count == 1 and notes == 0
        assert label is not None and label.name == "secreta-a"
        assert [m.id for m in members] == [owned.world.admin.id] and canned.content == "Hola de A"

    async def test_lists_filters_and_bodies_never_reach_another_account(
        self, client: httpx.AsyncClient, runtime: Runtime, a_and_b: tuple[Owned, World]
    ) -> None:
        owned, b = a_and_b
        ids = owned.ids
        for url in [
            "/api/v1/inboxes",
            "/api/v1/conversations",
            f"/api/v1/conversations?inbox_id={ids['inbox_id']}",
            f"/api/v1/conversations?contact_id={ids['contact_id']}",
            f"/api/v1/conversations?label_id={ids['label_id']}",
            f"/api/v1/conversations?team_id={ids['team_id']}",
            "/api/v1/conversations?q=pedido",
            "/api/v1/labels",
            "/api/v1/teams",
            "/api/v1/canned-responses",
            "/api/v1/canned-responses?q=hola",
            "/api/v1/agents",
        ]:
            response = await client.get(url, headers=b.auth)
            assert response.status_code == 200, (url, response.text)
            for secret in ("secreta-a", "Equipo A", "Hola de A", "A-17", "Ana Mart", "admin@"):
                assert secret not in response.text, (url, secret)
        inboxes = (await client.get("/api/v1/inboxes", headers=b.auth)).json()
        assert [inbox["id"] for inbox in inboxes] == [b.inbox.id]
        params = {"phone": owned.customer_phone}
        mine = await client.get("/api/v1/contacts", params=params, headers=owned.world.auth)
        assert [c["id"] for c in mine.json()] == [ids["contact_id"]]
        theirs = await client.get("/api/v1/contacts", params=params, headers=b.auth)
        # the same answer as for any number nobody in B's account has (a legacy 521… id is not valid E.164)
        assert theirs.status_code == 422 and "Ana" not in theirs.text

        # B's own conversation cannot be given A's agent, team or label, nor a template sent from A's inbox
        async with runtime.unit_of_work() as session:
            contact = await contact_service.create(session, b.account.id, ContactCreate(phone="+34600999888"))
            theirs = await conversation_service.open_for_outbound(session, b.inbox, contact)
        url = f"/api/v1/conversations/{theirs.id}"
        assert_error(await client.patch(url, json={"assignee_id": ids["user_id"]}, headers=b.auth), 404, "assignee")
        assert_error(await client.patch(url, json={"team_id": ids["team_id"]}, headers=b.auth), 404, "team")
        labels = await client.patch(url, json={"labels": [owned.label_name]}, headers=b.auth)
        assert_error(labels, 422, "labels")
        template = {"name": "hello_world", "language": "en_US"}
        start = {"inbox_id": ids["inbox_id"], "to": "+34600111222", "template": template}
        assert_error(await client.post("/api/v1/messages", json=start, headers=b.auth), 404, "start")
        async with runtime.unit_of_work() as session:
            team = await team_service.create(session, b.account.id, TeamCreate(name="Equipo B"))
        member = await client.post(f"/api/v1/teams/{team.id}/members", json={"user_id": ids["user_id"]}, headers=b.auth)
        assert_error(member, 404, "member")


class TestAgents:
    async def test_lists_the_accounts_active_agents_for_assignment(
        self, client: httpx.AsyncClient, runtime: Runtime, a_and_b: tuple[Owned, World]
    ) -> None:
        owned, _b = a_and_b
        world = owned.world
        agent = await make_user(runtime, world.account, "lucia@casaolivo.example", Role.agent, name="Lucía")
        gone = await make_user(runtime, world.account, "ex@casaolivo.example", Role.agent, name="Ex Agente")
        async with runtime.unit_of_work() as session:
            stored = await session.get(User, gone.id)
            assert stored is not None
            stored.is_active = False
        listed = (await client.get("/api/v1/agents", headers=world.auth)).json()
        assert [a["id"] for a in listed] == [world.admin.id, agent.id]  # by name: "admin", "Lucía"
        assert set(listed[0]) == {"id", "name", "role", "availability", "is_active"}  # no e-mail
        everyone = (await client.get("/api/v1/agents?include_inactive=true", headers=world.auth)).json()
        assert gone.id in [a["id"] for a in everyone]
        cid = owned.ids["conversation_id"]
        assigned = await client.patch(
            f"/api/v1/conversations/{cid}", json={"assignee_id": listed[-1]["id"]}, headers=world.auth
        )
        assert assigned.status_code == 200 and assigned.json()["assignee_id"] == listed[-1]["id"]


class TestCursorPagination:
    async def test_pages_follow_next_cursor_without_overlap(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        world = await make_world(runtime)
        async with runtime.unit_of_work() as session:
            for i in range(5):
                contact = await contact_service.create(
                    session, world.account.id, ContactCreate(phone=f"+3460000010{i}")
                )
                await conversation_service.open_for_outbound(session, world.inbox, contact)
        seen: list[int] = []
        cursor: str | None = None
        for _page in range(4):
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/v1/conversations", params=params, headers=world.auth)).json()
            seen.extend(item["id"] for item in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert cursor is None and len(seen) == 5 and len(set(seen)) == 5
        async with runtime.unit_of_work() as session:
            newest_first = list(
                (
                    await session.execute(
                        select(Conversation.id).order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
                    )
                ).scalars()
            )
        assert seen == newest_first


BAD_QUERIES = [
    "/api/v1/conversations?cursor=not-a-cursor",
    # a well-formed cursor with a naive datetime, and one with an id no column can hold
    "/api/v1/conversations?cursor=WyIyMDI0LTAxLTAxVDAwOjAwOjAwIiwgMV0",
    "/api/v1/conversations?cursor=WyIyMDI0LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwgOTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ",
    f"/api/v1/conversations?inbox_id={MAX_ID + 1}",
    f"/api/v1/conversations?label_id={MAX_ID + 1}",
    "/api/v1/conversations?label_id=0",
    "/api/v1/conversations?status=closed",
    "/api/v1/conversations?limit=0",
    "/api/v1/conversations?q=%00",
    "/api/v1/contacts?phone=12",
    "/api/v1/contacts?phone=not-a-phone",
]


class TestBadInput:
    async def test_ids_out_of_range_in_any_path_are_422(
        self, app: FastAPI, lenient: httpx.AsyncClient, a_and_b: tuple[Owned, World]
    ) -> None:
        owned, _b = a_and_b
        for method, path in api_routes_with_ids(app):
            for name in PARAM.findall(path):
                for bad in (str(MAX_ID + 1), "99999999999999999999999", "0", "-3", "abc"):
                    url = PARAM.sub(lambda m, n=name, v=bad: v if m.group(1) == n else str(owned.ids[m.group(1)]), path)
                    response = await lenient.request(method, url, headers=owned.world.auth, **BODIES[(method, path)])
                    assert_error(response, 422, (method, url))

    async def test_bad_queries_and_bodies_are_4xx(
        self, lenient: httpx.AsyncClient, a_and_b: tuple[Owned, World]
    ) -> None:
        owned, _b = a_and_b
        auth = owned.world.auth
        for url in BAD_QUERIES:
            response = await lenient.get(url, headers=auth)
            if response.status_code == 200:  # SQLite stores NUL; PostgreSQL refuses it with a 422
                assert "%00" in url, url
                continue
            assert_error(response, (400, 422), url)

        cid, mid = owned.ids["conversation_id"], owned.ids["message_id"]
        big = MAX_ID + 1
        template = {"name": "hello_world", "language": "en_US"}
        bodies: list[tuple[str, str, Any]] = [
            ("PATCH", f"/api/v1/conversations/{cid}", {"assignee_id": big}),
            ("PATCH", f"/api/v1/conversations/{cid}", {"team_id": 0}),
            ("PATCH", f"/api/v1/conversations/{cid}", {"status": "snoozed"}),
            ("PATCH", f"/api/v1/conversations/{cid}", {"status": "snoozed", "snoozed_until": "2099-01-01T09:00:00"}),
            ("PATCH", f"/api/v1/conversations/{cid}", {"status": "snoozed", "snoozed_until": "mañana"}),
            # in the future, but past year 9999 once in UTC
            (
                "PATCH",
                f"/api/v1/conversations/{cid}",
                {"status": "snoozed", "snoozed_until": "9999-12-31T23:59:00-05:00"},
            ),
            ("PATCH", f"/api/v1/conversations/{cid}", {"priority": "altísima"}),
            ("PATCH", f"/api/v1/conversations/{cid}", {"labels": ["no-existe"]}),
            ("PATCH", f"/api/v1/conversations/{cid}", ["status", "resolved"]),
            (
                "POST",
                f"/api/v1/conversations/{cid}/messages",
                {"type": "text", "text": "hola", "reply_to_message_id": big},
            ),
            ("POST", f"/api/v1/conversations/{cid}/messages", {"type": "text", "text": "x" * 4097}),
            ("POST", f"/api/v1/conversations/{cid}/messages", {"type": "video", "text": "hola"}),
            ("POST", f"/api/v1/conversations/{cid}/messages", {"text": "sin tipo"}),
            ("POST", f"/api/v1/conversations/{cid}/messages/{mid}/resend", None),  # not a failed message
            ("POST", "/api/v1/messages", {"inbox_id": big, "to": "+34600111222", "template": template}),
            ("POST", "/api/v1/messages", {"inbox_id": owned.ids["inbox_id"], "to": "nadie", "template": template}),
            ("POST", "/api/v1/contacts", {"phone": "+34600111222", "language": "fr"}),
            ("PATCH", f"/api/v1/contacts/{owned.ids['contact_id']}", {"custom_attributes": {"a": {"b": 1}}}),
            ("POST", "/api/v1/labels", {"name": "x", "color": "red"}),
            ("POST", "/api/v1/teams", {"name": "   "}),
            ("POST", f"/api/v1/teams/{owned.ids['team_id']}/members", {"user_id": big}),
            ("POST", "/api/v1/canned-responses", {"short_code": "con espacio", "content": "x"}),
        ]
        nul = "\x00"
        stored_nul: list[tuple[str, str, Any]] = [
            ("POST", f"/api/v1/conversations/{cid}/messages", {"type": "note", "text": f"nota{nul}"}),
            ("POST", "/api/v1/contacts", {"phone": "+34600111333", "name": f"Ana{nul}"}),
            ("PATCH", f"/api/v1/contacts/{owned.ids['contact_id']}", {"custom_attributes": {"a": nul}}),
            ("POST", "/api/v1/labels", {"name": f"nul{nul}"}),
            ("POST", "/api/v1/canned-responses", {"short_code": "nul", "content": f"con{nul}"}),
        ]
        for method, url, body in bodies:
            response = await lenient.request(method, url, json=body, headers=auth)
            assert_error(response, (400, 404, 409, 422), (method, url, body))
        for method, url, body in stored_nul:
            response = await lenient.request(method, url, json=body, headers=auth)
            if response.status_code >= 300:
                assert_error(response, 422, (method, url))
                assert response.json()["error"]["code"] == "invalid_text"
        malformed = await lenient.post(
            f"/api/v1/conversations/{cid}/messages",
            content=b'{"type": "note", "text": ',
            headers={**auth, "content-type": "application/json"},
        )
        assert_error(malformed, 400, "malformed json")

    async def test_patch_refuses_null_for_required_fields_and_a_lone_snooze_time(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        """Each of these used to answer 200 and change nothing; each must say why it cannot be done."""
        world = await make_world(runtime)
        async with runtime.unit_of_work() as session:
            contact = await contact_service.create(session, world.account.id, ContactCreate(phone="+34600000201"))
            conversation = await conversation_service.open_for_outbound(session, world.inbox, contact)
        url = f"/api/v1/conversations/{conversation.id}"
        before = (await client.get(url, headers=world.auth)).json()
        refused = [
            ({"status": None}, "status cannot be null"),
            ({"priority": None}, "priority cannot be null"),
            ({"labels": None}, "labels cannot be null"),
            ({"status": None, "priority": "high"}, "status cannot be null"),
            ({"snoozed_until": "2099-01-01T09:00:00+00:00"}, 'snoozed_until goes with "status": "snoozed"'),
            ({"status": "open", "snoozed_until": "2099-01-01T09:00:00+00:00"}, "snoozed_until goes with"),
            ({"snoozed_until": None}, "snoozed_until goes with"),
        ]
        for body, message in refused:
            response = await client.patch(url, json=body, headers=world.auth)
            assert_error(response, 422, body)
            assert response.json()["error"]["code"] == "validation_error", body
            assert message in response.json()["error"]["message"], (body, response.json())
        assert (await client.get(url, headers=world.auth)).json() == before

        # what stays accepted: null where it clears, and a null snooze time next to a status that has none
        ok = await client.patch(
            url, json={"status": "pending", "snoozed_until": None, "assignee_id": None}, headers=world.auth
        )
        assert ok.status_code == 200 and ok.json()["status"] == "pending"
        # snoozing again with another time moves the snooze (it used to be ignored: same status)
        first = await client.patch(
            url, json={"status": "snoozed", "snoozed_until": "2099-01-01T09:00:00+00:00"}, headers=world.auth
        )
        again = await client.patch(
            url, json={"status": "snoozed", "snoozed_until": "2099-02-01T09:00:00+00:00"}, headers=world.auth
        )
        assert first.status_code == again.status_code == 200
        assert again.json()["snoozed_until"].startswith("2099-02-01T09:00")


# Every JSON body the API accepts, by its OpenAPI schema name: their examples must validate.
BODY_MODELS: dict[str, type[BaseModel]] = {
    model.__name__: model
    for model in (
        ContactCreate,
        ContactUpdate,
        ConversationUpdate,
        TextMessageIn,
        NoteIn,
        TemplateMessageIn,
        StartConversationIn,
        LabelCreate,
        LabelUpdate,
        TeamCreate,
        TeamUpdate,
        TeamMemberAdd,
        CannedResponseCreate,
        CannedResponseUpdate,
    )
}


class TestOpenApi:
    async def test_every_json_body_has_valid_examples_and_errors_are_documented(
        self, client: httpx.AsyncClient
    ) -> None:
        spec = (await client.get("/openapi.json")).json()
        schemas = spec["components"]["schemas"]
        checked = 0
        for path, operations in spec["paths"].items():
            if not path.startswith("/api/v1"):
                continue
            for method, operation in operations.items():
                assert {"401", "404", "422"} <= set(operation["responses"]), (method, path)
                error = operation["responses"]["422"]["content"]["application/json"]["schema"]
                assert error["$ref"].endswith("/ErrorResponse"), (method, path)
                body = operation.get("requestBody", {}).get("content", {}).get("application/json")
                if body is None:
                    continue
                refs = [v["$ref"] for v in body["schema"].get("oneOf", [])] or [body["schema"]["$ref"]]
                for ref in refs:
                    name = ref.rsplit("/", 1)[-1]
                    examples = schemas[name].get("examples")
                    assert examples, f"{method.upper()} {path}: add examples to {name}"
                    assert name in BODY_MODELS, f"add {name} to BODY_MODELS"
                    for example in examples:
                        BODY_MODELS[name].model_validate(example)
                    checked += 1
        assert checked >= len(BODY_MODELS)
