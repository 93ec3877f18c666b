"""No N+1: the list page, the conversation page and inbound processing run the same number of queries whether
there are 5 or 30 conversations / messages (counted on the engine's before_cursor_execute)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from inboxhelpers import Desk, htmx, inbound, many_customers
from sqlalchemy import select

from dbutil import QueryCounter, count_queries
from jobutil import runner_held
from mostrador.labels.schemas import LabelCreate
from mostrador.labels.service import label as label_service
from mostrador.models import Conversation


async def test_list_page_queries_do_not_grow_with_conversations(desk: Desk) -> None:
    async with desk.w.runtime.unit_of_work() as session:
        await label_service.create(session, desk.w.world.account.id, LabelCreate(name="vip"))

    async def label_everything() -> None:
        async with desk.w.runtime.unit_of_work() as session:
            ids = list((await session.execute(select(Conversation.id))).scalars())
        for cid in ids:
            await desk.client.post(f"/conversations/{cid}/labels", data={"labels": ["vip"]}, headers=htmx(desk.token))

    await many_customers(desk.w, 5, prefix="52155200")
    await label_everything()
    with count_queries(desk.w.runtime) as small:
        assert (await desk.client.get("/?view=all")).status_code == 200
    await many_customers(desk.w, 25, prefix="52155300")
    await label_everything()
    with count_queries(desk.w.runtime) as large:
        html = (await desk.client.get("/?view=all")).text
    assert html.count("data-nav-item data-conversation-id") == 25
    print(f"list page: {small.count} queries with 5 conversations, {large.count} with 30")
    assert large.count == small.count, (small.statements, large.statements)
    assert small.count <= 15


async def _conversation_with(desk: Desk, count: int, start: int) -> int:
    kinds = ["text", "image", "reaction", "location", "text"]
    last = None
    for i in range(count):
        kind = kinds[i % len(kinds)]
        if kind == "text":
            last = (
                await inbound(desk.w, "text", f"mensaje {start + i}", reply_to=last)
                if last
                else await inbound(desk.w, "text", f"mensaje {start + i}")
            )
        elif kind == "image":
            await inbound(desk.w, "image", {"caption": f"foto {i}"})
        elif kind == "reaction" and last:
            await inbound(desk.w, "reaction", {"message_id": last, "emoji": "👍"})
        else:
            await inbound(desk.w, "location", {"latitude": 40.0, "longitude": -3.0, "name": f"sitio {i}"})
    async with desk.w.runtime.unit_of_work() as session:
        return int((await session.execute(select(Conversation.id))).scalar_one())


@asynccontextmanager
async def page_queries(desk: Desk) -> AsyncIterator[QueryCounter]:
    """The page's own queries: opening it marks the conversation read, and the read-receipt job that queues runs
    after the count (left running, it fell into this window or the next one depending on timing)."""
    async with runner_held(desk.w.runtime):
        with count_queries(desk.w.runtime) as counter:
            yield counter
    await desk.w.settle()


async def test_conversation_page_queries_do_not_grow_with_messages(desk: Desk) -> None:
    cid = await _conversation_with(desk, 5, 0)
    await desk.client.post(
        f"/conversations/{cid}/messages", data={"mode": "note", "text": "nota"}, headers=htmx(desk.token)
    )
    async with page_queries(desk) as small:
        assert (await desk.client.get(f"/conversations/{cid}")).status_code == 200
    async with page_queries(desk) as small_fragment:
        await desk.client.get(f"/conversations/{cid}", headers=htmx(desk.token, "conversation"))
    await _conversation_with(desk, 25, 100)
    await desk.client.post(
        f"/conversations/{cid}/messages", data={"mode": "note", "text": "otra nota"}, headers=htmx(desk.token)
    )
    async with page_queries(desk) as large:
        assert (await desk.client.get(f"/conversations/{cid}")).status_code == 200
    async with page_queries(desk) as large_fragment:
        await desk.client.get(f"/conversations/{cid}", headers=htmx(desk.token, "conversation"))
    print(
        f"conversation page: {small.count} / {large.count} queries; fragment {small_fragment.count} / "
        f"{large_fragment.count}"
    )
    assert large.count == small.count, (small.statements, large.statements)
    assert large_fragment.count == small_fragment.count
    assert small.count <= 25


async def test_inbound_processing_queries_do_not_grow(desk: Desk) -> None:
    await many_customers(desk.w, 5, prefix="52155400")
    await inbound(desk.w, "text", "calentando", wa_id="5215540009999")
    with count_queries(desk.w.runtime) as small:
        await inbound(desk.w, "text", "uno más", wa_id="5215540009999")
    await many_customers(desk.w, 25, prefix="52155500")
    for i in range(25):
        await inbound(desk.w, "text", f"historia {i}", wa_id="5215540009999")
    with count_queries(desk.w.runtime) as large:
        await inbound(desk.w, "text", "y otro", wa_id="5215540009999")
    print(f"inbound message: {small.count} / {large.count} queries")
    assert large.count == small.count, (small.statements, large.statements)
