"""P4 — agent inbox queries at scale, through the service functions the API and the UI call.

Seeds (bench/seed_scale.py) PostgreSQL with 100,000 contacts / 100,000 conversations / 1,000,000 messages
(one conversation with 50,000 messages) and SQLite with 10,000 conversations / 100,000 messages, then times
list, open, load-older and search, each inside ``runtime.unit_of_work()`` like a request, against a trivial
``SELECT 1`` unit of work measured in the same run. Every statement of one call per query is EXPLAINed
(PostgreSQL: ANALYZE, BUFFERS) into var/bench-p4/explain-<backend>.txt.

    .venv/bin/python -m bench.inbox_queries [--scale full|small] [--reuse] [--backends postgres,sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import ROOT, machine, percentile, write_section
from bench.seed_scale import (
    SCALES,
    SECRET_KEY,
    Plan,
    Scale,
    customer_name,
    kind_of,
    make_plan,
    order_number,
    pg_database,
    pg_url,
    seed_postgres,
    seed_sqlite,
    sqlite_path,
    sqlite_url,
    text_of,
)
from mostrador.config import Settings
from mostrador.conversations.schemas import ConversationFilters, View
from mostrador.conversations.service import conversation as conversation_service
from mostrador.messages.repository import MessageRepository
from mostrador.migrate import upgrade
from mostrador.models import ConversationStatus, Message, User
from mostrador.runtime import Runtime, build_runtime

OUT = ROOT / "var" / "bench-p4"
GOALS_MS = {"list": 50.0, "open": 30.0, "older": 30.0, "search": 200.0}
MAX_SECONDS_PER_QUERY = 60.0
Query = Callable[[AsyncSession], Awaitable[int]]


@dataclass
class Case:
    group: str  # list | open | older | search | baseline
    label: str
    run: Query
    iterations: int


@dataclass
class Result:
    case: Case
    samples: list[float]
    rows: int

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)


@dataclass
class Capture:
    on: bool = False
    statements: list[tuple[str, Any]] = field(default_factory=list)


async def populated(backend: str, scale: Scale, database: str) -> bool:
    if backend == "postgres":
        try:
            connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}")
        except asyncpg.InvalidCatalogNameError:
            return False
        try:
            name = await connection.fetchval("SELECT name FROM accounts WHERE id = 1")
            count = await connection.fetchval("SELECT count(*) FROM messages")
        except asyncpg.UndefinedTableError:
            return False
        finally:
            await connection.close()
        return bool(name == f"P4 bench ({scale.name})" and count == scale.messages)
    path = sqlite_path(scale)
    if not path.exists():
        return False
    runtime = build_runtime(settings_for(sqlite_url(path)))
    try:
        async with runtime.unit_of_work() as session:
            name = (await session.execute(text("SELECT name FROM accounts WHERE id = 1"))).scalar_one_or_none()
            count = (await session.execute(text("SELECT count(*) FROM messages"))).scalar_one()
    except Exception:
        return False
    finally:
        await runtime.aclose()
    return bool(name == f"P4 bench ({scale.name})" and count == scale.messages)


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, var_dir=OUT, secret_key=SECRET_KEY, redis_url=None, log_level="WARNING")


async def measure(runtime: Runtime, case: Case, warmup: int) -> Result:
    rows = 0
    for _ in range(warmup):
        async with runtime.unit_of_work() as session:
            rows = await case.run(session)
    samples: list[float] = []
    deadline = time.monotonic() + MAX_SECONDS_PER_QUERY
    for _ in range(case.iterations):
        started = time.perf_counter()
        async with runtime.unit_of_work() as session:
            await case.run(session)
        samples.append((time.perf_counter() - started) * 1000)
        if time.monotonic() > deadline:
            break
    return Result(case, samples, rows)


def list_query(user: User, filters: ConversationFilters, cursor: str | None = None) -> Query:
    async def run(session: AsyncSession) -> int:
        page = await conversation_service.page(session, user, filters, cursor=cursor, limit=25)
        return len(page.items)

    return run


def open_query(conversation_id: int, before_id: int | None = None) -> Query:
    async def run(session: AsyncSession) -> int:
        rows = await MessageRepository.from_session(session).page_for_conversation(
            1, conversation_id, before_id=before_id, limit=50
        )
        return len(rows)

    return run


async def select_one(session: AsyncSession) -> int:
    return int((await session.execute(text("SELECT 1"))).scalar_one())


def order_search_target(plan: Plan) -> tuple[int, str]:
    """A conversation whose (non-private) messages quote its order number: search should find just that one."""
    for cid in range(plan.ten_id, plan.scale.conversations + 1):
        number = order_number(cid)
        name = customer_name(plan.contact[cid - 1])
        for seq in range(plan.count[cid - 1]):
            kind = kind_of(cid, seq)
            if not kind.private and number in text_of(cid, seq, kind, name):
                return cid, number
    raise RuntimeError("no conversation quotes its order number")


async def build_cases(runtime: Runtime, plan: Plan, iterations: int, search_iterations: int) -> list[Case]:
    async with runtime.unit_of_work() as session:
        agent = (await session.execute(select(User).where(User.id == plan.agent_ids[0]))).scalar_one()
        open_all = ConversationFilters(status=ConversationStatus.open)
        first = await conversation_service.page(session, agent, open_all, cursor=None, limit=25)
        page2 = first.next_cursor
        cursor = page2
        for _ in range(18):  # page 20
            cursor = (await conversation_service.page(session, agent, open_all, cursor=cursor, limit=25)).next_cursor
        page20 = cursor
        repository = MessageRepository.from_session(session)
        latest = await repository.page_for_conversation(1, plan.big_id, before_id=None, limit=50)
        before = latest[0].id
        for _ in range(499):  # page 500: the middle of 50,000 messages
            before = (await repository.page_for_conversation(1, plan.big_id, before_id=before, limit=50))[0].id
        small_count = len(await repository.page_for_conversation(1, plan.ten_id, before_id=None, limit=1000))
    n, s = iterations, search_iterations
    _target, number = order_search_target(plan)
    cases = [
        Case("baseline", "`SELECT 1` unit of work (baseline)", select_one, n),
        Case("list", "all, any status — page 1", list_query(agent, ConversationFilters()), n),
        Case("list", "all, open — page 1", list_query(agent, open_all), n),
        Case(
            "list",
            "mine, open — page 1",
            list_query(agent, ConversationFilters(view=View.mine, status=ConversationStatus.open)),
            n,
        ),
        Case(
            "list",
            "unassigned, open — page 1",
            list_query(agent, ConversationFilters(view=View.unassigned, status=ConversationStatus.open)),
            n,
        ),
        Case("list", "all, open — page 2 (cursor)", list_query(agent, open_all, page2), n),
        Case("list", "all, open — page 20 (cursor)", list_query(agent, open_all, page20), n),
        Case("open", f"open: latest 50 of a {small_count}-message conversation", open_query(plan.ten_id), n),
        Case("open", f"open: latest 50 of the {plan.scale.big:,}-message conversation", open_query(plan.big_id), n),
        Case("older", "load older: page 2 of the long conversation", open_query(plan.big_id, latest[0].id), n),
        Case("older", "load older: page 500 of the long conversation", open_query(plan.big_id, before), n),
    ]
    for label, filters in (
        ("“devolución”", ConversationFilters(q="devolución")),
        ("“devolución”, open", ConversationFilters(q="devolución", status=ConversationStatus.open)),
        ("“factura”", ConversationFilters(q="factura")),
        ("“pedido retrasado”", ConversationFilters(q="pedido retrasado")),
        (f"“{number}” (one conversation)", ConversationFilters(q=number)),
        ("“xilófono” (no match)", ConversationFilters(q="xilófono")),
    ):
        cases.append(Case("search", f"search {label}", list_query(agent, filters), s))
    return cases


async def explain(runtime: Runtime, capture: Capture, case: Case, dialect: str) -> list[tuple[str, float, str]]:
    """Run the case once, capture its SQL, EXPLAIN each statement; (sql, execution ms or -1, plan)."""
    capture.statements.clear()
    capture.on = True
    try:
        async with runtime.unit_of_work() as session:
            await case.run(session)
    finally:
        capture.on = False
    found = []
    for statement, parameters in list(capture.statements):
        if not statement.lstrip().upper().startswith("SELECT") or statement.strip() == "SELECT 1":
            continue
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
        async with runtime.unit_of_work() as session:
            connection = await session.connection()
            result = await connection.exec_driver_sql(prefix + statement, tuple(parameters))
            lines = [
                " | ".join(str(v) for v in row) if dialect != "postgresql" else str(row[0]) for row in result.all()
            ]
        ms = -1.0
        for line in lines:
            if line.startswith("Execution Time:"):
                ms = float(line.split()[2])
        found.append((statement, ms, "\n".join(lines)))
    return found


async def run_backend(
    backend: str,
    scale: Scale,
    reuse: bool,
    iterations: int,
    search_iterations: int,
    log: Callable[[str], None],
    database: str | None = None,
) -> tuple[list[Result], dict[str, list[tuple[str, float, str]]], float | None, Plan]:
    plan = make_plan(scale)
    database = database or pg_database(scale)
    seeded: float | None = None
    if not (reuse and await populated(backend, scale, database)):
        started = time.monotonic()
        if backend == "postgres":
            await seed_postgres(plan, database, log)
        else:
            await seed_sqlite(plan, sqlite_path(scale), log)
        seeded = time.monotonic() - started
        log(f"{backend}: seeded {scale.name} in {seeded:.0f} s")
    url = pg_url(database) if backend == "postgres" else sqlite_url(sqlite_path(scale))
    await asyncio.to_thread(upgrade, url)  # reused data gets the schema's newer indexes too
    runtime = build_runtime(settings_for(url))
    capture = Capture()

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if capture.on:
            capture.statements.append((statement, parameters))

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", listen)
    try:
        async with runtime.unit_of_work() as session:
            big = await session.scalar(select(Message.id).where(Message.conversation_id == plan.big_id).limit(1))
            if big is None:
                raise RuntimeError("the seeded data does not match the plan; run without --reuse")
        cases = await build_cases(runtime, plan, iterations, search_iterations)
        results = []
        for case in cases:
            result = await measure(runtime, case, warmup=5 if case.group == "search" else 20)
            results.append(result)
            log(
                f"{backend:8} {case.label:58} rows={result.rows:3} n={len(result.samples):3} "
                f"p50={result.p50:7.2f} ms p95={result.p95:7.2f} ms"
            )
        dialect = runtime.db.engine.dialect.name
        plans = {
            case.label: await explain(runtime, capture, case, dialect) for case in cases if case.group != "baseline"
        }
    finally:
        await runtime.aclose()
    return results, plans, seeded, plan


def table(backend: str, scale: Scale, results: list[Result]) -> str:
    baseline = next(r for r in results if r.case.group == "baseline")
    lines = [
        "| query | rows | n | p50 ms | p95 ms | p50 × SELECT 1 | p95 × SELECT 1 | goal p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        goal = GOALS_MS.get(r.case.group)
        verdict = "—" if goal is None else f"< {goal:.0f} ms {'✅' if r.p95 < goal else '❌'}"
        lines.append(
            f"| {r.case.label} | {r.rows} | {len(r.samples)} | {r.p50:.2f} | {r.p95:.2f} | "
            f"{r.p50 / baseline.p50:.1f} | {r.p95 / baseline.p95:.1f} | {verdict} |"
        )
    return "\n".join(lines)


def write_plans(backend: str, plans: dict[str, list[tuple[str, float, str]]]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"explain-{backend}.txt"
    parts = []
    for label, statements in plans.items():
        parts.append(f"=== {label}")
        for sql, ms, plan_text in statements:
            parts.append(f"--- ({ms:.2f} ms)\n{sql}\n{plan_text}\n")
    path.write_text("\n".join(parts))
    return path


def slowest_plan(statements: list[tuple[str, float, str]]) -> str:
    if not statements:
        return ""
    return max(statements, key=lambda s: s[1])[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--scale",
        choices=["full", "small"],
        default="full",
        help="full: PostgreSQL at full scale, SQLite at small; small: both small",
    )
    parser.add_argument("--reuse", action="store_true", help="skip seeding when the database already has the data")
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--search-iterations", type=int, default=50)
    parser.add_argument("--pg-database", default=None, help="PostgreSQL database (default mostrador_p4[_small])")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()
    sections = []
    plan_notes = []
    load_before = os.getloadavg()[0]
    for backend in args.backends.split(","):
        scale = SCALES["small"] if backend == "sqlite" or args.scale == "small" else SCALES["full"]
        results, plans, seeded, plan = asyncio.run(
            run_backend(backend, scale, args.reuse, args.iterations, args.search_iterations, print, args.pg_database)
        )
        path = write_plans(backend, plans)
        print(f"plans: {path}")
        seed_note = f"seeded in {seeded:.0f} s" if seeded is not None else "reused seeded data"
        sections.append(
            f"### {backend} — {scale.contacts:,} contacts, {scale.conversations:,} conversations, "
            f"{scale.messages:,} messages ({seed_note})\n\n{table(backend, scale, results)}"
        )
        for r in results:
            goal = GOALS_MS.get(r.case.group)
            if goal is not None and r.p95 >= goal and backend == "postgres":
                plan_notes.append(
                    f"{backend} — {r.case.label} (p95 {r.p95:.1f} ms), slowest statement:\n\n"
                    f"```\n{slowest_plan(plans[r.case.label])}\n```"
                )
    figures = "\n\n".join(sections)
    load = f"load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    misses = "\n\n".join(plan_notes) if plan_notes else "All PostgreSQL goals met; no plan to show."
    body = f"""Measured {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} on {machine()} ({load}; the
machine is shared, so read the ratios to `SELECT 1` before the absolute figures); PostgreSQL 15 (stock
settings: shared_buffers 128 MB) and SQLite on the same machine, loopback. Reproduce:
`.venv/bin/python -m bench.inbox_queries --scale full` (add `--reuse` to skip seeding when the databases
already hold the data; seeding alone:
`.venv/bin/python -m bench.seed_scale --scale full`).

Recipe. `bench/seed_scale.py` migrates a fresh database (PostgreSQL `mostrador_p4`, SQLite
`var/bench-p4/p4_small.db`) and loads one account deterministically: 2 WhatsApp inboxes, 6 users, 8 labels
(about a quarter of the conversations carry one or two), contacts with Spanish names and +34 / +52 numbers,
conversations whose ids follow creation time with `last_activity_at` spread over 90 days (open / pending /
snoozed ≈ 30 / 8 / 4 %, the rest resolved; about 70 % of the active ones assigned to five agents), one
conversation with {plan.scale.big:,} messages and the rest around 10 (PostgreSQL) or 5 (SQLite), messages
interleaved in time across conversations (so one conversation's rows are scattered over the table), half
inbound, Spanish customer-service text on ten topics (returns, shipping, invoices …), media, bot replies,
private notes, failed sends. PostgreSQL is loaded with binary COPY with the secondary indexes rebuilt after,
then VACUUM ANALYZE; SQLite with batched Core inserts (FTS5 triggers on), then ANALYZE.

Each query is one unit of work (`runtime.unit_of_work()`, as a request), calling the real functions:
`conversation.page(...)` with `ConversationFilters` (limit 25; it also loads labels and the inboxes' reply
windows) for list and search, `MessageRepository.page_for_conversation(..., limit=50)` for open and load
older. 20 warm-up calls (search 5), then {args.iterations} timed calls ({args.search_iterations} for search,
capped at {MAX_SECONDS_PER_QUERY:.0f} s per query). The baseline is a `SELECT 1` unit of work timed the same
way in the same run; the ratio columns divide by it. Goals (issue “Agent inbox”): list p95 < 50 ms,
open p95 < 30 ms (and the same for 10 and 50,000 messages), search p95 < 200 ms.

{figures}

Plans (PostgreSQL, EXPLAIN ANALYZE of every statement of one call) are written to
`var/bench-p4/explain-postgres.txt`. Goals missed on PostgreSQL:

{misses}
"""
    if not args.no_write:
        write_section("P4 — inbox queries at scale", body)
    print(body)


if __name__ == "__main__":
    main()
