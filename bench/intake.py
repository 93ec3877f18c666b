"""P1 — webhook intake: signed, realistic webhook mix posted by wrk (a separate process) on loopback against
`mostrador serve`, compared with a bare ASGI endpoint and a durable floor (bench/floor_app.py: signature, JSON
check, group commit, nothing else) served the same way in the same run. Modes: embedded SQLite and PostgreSQL
(one `serve` stores and processes), and intake-only (a distributed `serve`; its worker starts after the load).

Mix: statuses 3 : 1 inbound messages (sent/delivered/read for messages we sent, plus customer texts).
Checks afterwards: every acknowledged body is one stored row (none lost, none duplicated), and once processed,
every message and status is applied exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy import func, insert, select, text

from bench.common import BIN, ROOT, free_port, machine, server, write_section
from mostrador.config import Settings
from mostrador.kit.crypto import encrypt_json
from mostrador.kit.time import utc_now
from mostrador.migrate import upgrade
from mostrador.models import (
    Account,
    ChannelKind,
    Contact,
    Conversation,
    Direction,
    Inbox,
    Message,
    MessageStatus,
    MessageStatusEvent,
    SenderKind,
    WebhookEvent,
    WebhookEventState,
)
from mostrador.runtime import build_runtime

SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "555000111222"
WABA_ID = "555000999"
STATUSES = ("sent", "delivered", "read")
EXTRA_ENV = {k: v for k, v in os.environ.items() if k.startswith("MOSTRADOR_") and not k.startswith("MOSTRADOR_BENCH")}


@dataclass
class Target:
    url: str
    database: str = ""
    settings: Settings | None = None
    env: dict[str, str] = field(default_factory=dict)
    health: str = ""


@dataclass
class Run:
    label: str
    ok: int
    other: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.ok / self.seconds


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def envelope(value: dict[str, object]) -> dict[str, object]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "34910000000", "phone_number_id": PHONE_NUMBER_ID},
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def server_env(database_url: str, var: Path) -> dict[str, str]:
    """Settings for the `mostrador serve` under test (MOSTRADOR_* of the caller's environment win)."""
    return {
        "MOSTRADOR_DATABASE_URL": database_url,
        "MOSTRADOR_VAR_DIR": str(var),
        "MOSTRADOR_SECRET_KEY": "bench",
        "MOSTRADOR_WA_APP_SECRET": SECRET,
        "MOSTRADOR_REDIS_URL": "",
        "MOSTRADOR_LOG_LEVEL": "WARNING",
        "MOSTRADOR_WA_GRAPH_URL": "http://127.0.0.1:9",
        **EXTRA_ENV,
    }


def customer_text(wa_id: str, wamid: str, text: str, timestamp: int) -> dict[str, object]:
    """The ``value`` of a webhook carrying one text message from a customer."""
    return {
        "contacts": [{"profile": {"name": f"Cliente {wa_id[-4:]}"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": wamid, "timestamp": str(timestamp), "type": "text", "text": {"body": text}}],
    }


def write_bodies(path: Path, count: int, outbound_wamids: int) -> None:
    """3 statuses for every inbound message, each body unique."""
    now = int(time.time())
    with path.open("w") as out:
        for index in range(count):
            if index % 4 == 3:
                value = customer_text(f"5215500{index % 5000:05d}", f"wamid.in{index}", f"Hola, pedido {index}", now)
            else:
                n = index - index // 4  # nth status body
                wamid, status = f"wamid.out{(n // 3) % outbound_wamids}", STATUSES[n % 3]
                value = {
                    "statuses": [
                        {
                            "id": wamid,
                            "status": status,
                            "timestamp": str(now),
                            "recipient_id": "5215512345678",
                            "pricing": {
                                "billable": False,
                                "pricing_model": "PMP",
                                "category": "service",
                                "type": "free_customer_service",
                            },
                        }
                    ]
                }
            body = json.dumps(envelope(value), separators=(",", ":")).encode()
            out.write(sign(body) + "\t" + body.decode() + "\n")


async def seed(settings: Settings, outbound: int) -> None:
    runtime = build_runtime(settings)
    try:
        async with runtime.unit_of_work() as session:
            account = Account(name="Bench")
            session.add(account)
            await session.flush()
            inbox = Inbox(
                account_id=account.id,
                name="Bench",
                channel_kind=ChannelKind.WHATSAPP,
                channel_key=PHONE_NUMBER_ID,
                business_account_id=WABA_ID,
                auto_assign=False,
                config_encrypted=encrypt_json(
                    settings.resolved_secret_key,
                    {"phone_number_id": PHONE_NUMBER_ID, "waba_id": WABA_ID, "access_token": "x"},
                ),
            )
            contact = Contact(account_id=account.id, name="Ana", wa_id="5215512345678")
            session.add_all([inbox, contact])
            await session.flush()
            conversation = Conversation(
                account_id=account.id,
                display_id=1,
                inbox_id=inbox.id,
                contact_id=contact.id,
                last_activity_at=utc_now(),
            )
            session.add(conversation)
            account.next_conversation_number = 2
            await session.flush()
            now = utc_now()
            rows = [
                {
                    "account_id": account.id,
                    "inbox_id": inbox.id,
                    "conversation_id": conversation.id,
                    "direction": Direction.outbound,
                    "sender_kind": SenderKind.agent,
                    "type": "text",
                    "text": "hola",
                    "content": {},
                    "is_private": False,
                    "provider_message_id": f"wamid.out{i}",
                    "status": MessageStatus.sent,
                    "attempts": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(outbound)
            ]
            for start in range(0, len(rows), 2000):
                await session.execute(insert(Message), rows[start : start + 2000])
        if runtime.db.engine.dialect.name == "postgresql":
            # Production PostgreSQL analyzes a table this size within a minute (autovacuum); this machine's runs
            # with autovacuum off. With no statistics, the cached generic plan for the wamid lookups scanned the
            # whole messages table (68 ms a lookup): the database, not our code, was then what P1/P3 measured.
            async with runtime.db.engine.begin() as connection:  # statistics roll back with a transaction
                await connection.execute(text("ANALYZE"))
    finally:
        await runtime.aclose()


async def counts(settings: Settings) -> dict[str, int]:
    runtime = build_runtime(settings)
    try:
        async with runtime.unit_of_work() as session:

            async def count(statement) -> int:  # type: ignore[no-untyped-def]
                return int((await session.execute(statement)).scalar_one())

            return {
                "events": await count(select(func.count()).select_from(WebhookEvent)),
                "waiting": await count(
                    select(func.count())
                    .select_from(WebhookEvent)
                    .where(WebhookEvent.state == WebhookEventState.received)
                ),
                "not_handled": await count(
                    select(func.count())
                    .select_from(WebhookEvent)
                    .where(WebhookEvent.state != WebhookEventState.handled)
                ),
                "inbound": await count(
                    select(func.count()).select_from(Message).where(Message.direction == Direction.inbound)
                ),
                "statuses": await count(select(func.count()).select_from(MessageStatusEvent)),
            }
    finally:
        await runtime.aclose()


def wrk(url: str, bodies: Path, seconds: int, connections: int, *, allow_repeats: bool = False) -> Run:
    env = {**os.environ, "BODIES": str(bodies), "WRK_THREADS": "1"}
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(ROOT / "bench" / "wrk_webhooks.lua"),
            url,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    match = re.search(
        r"RESULT ok=(\d+) other=(\d+) sent=(\d+) exhausted=(\d+) p50_us=(\d+) p90_us=(\d+) "
        r"p99_us=(\d+)",
        result.stdout,
    )
    if not match:
        raise RuntimeError(result.stdout + result.stderr)
    ok, other, _sent, exhausted, p50, _p90, p99 = (int(g) for g in match.groups())
    if exhausted and not allow_repeats:
        raise RuntimeError(f"ran out of unique bodies ({exhausted} repeats); raise --bodies")
    return Run(url, ok, other, float(seconds), p50 / 1000, p99 / 1000)


async def reset_postgres(url: str, name: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{url.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"


async def checkpoint(url: str) -> None:
    """Each measured PostgreSQL run starts from a checkpoint: otherwise the previous run's (or the seed's) WAL
    forces one in the middle of this run, and whichever endpoint meets it pays for the other's writes."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


MODE_LABELS = {
    "sqlite": "sqlite, embedded (stores and processes)",
    "postgres": "postgres, embedded (stores and processes)",
    "intake-only": "postgres + Redis, intake only (the worker starts after the load)",
}


@contextlib.contextmanager
def serve_under_test(mode: str, work: Path, outbound: int) -> Iterator[Target]:
    """``sqlite`` / ``postgres``: one embedded `serve` stores and processes. ``intake-only``: a distributed `serve`
    (PostgreSQL + Redis) only stores during the load; a `mostrador worker` is started after it (``drain``)."""
    var = work / mode
    var.mkdir()
    if mode == "sqlite":
        database_url = f"sqlite+aiosqlite:///{var / 'bench.db'}"
    else:
        admin = os.environ.get("MOSTRADOR_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
        database_url = asyncio.run(reset_postgres(admin, "mostrador_bench"))
    env = server_env(database_url, var)
    if mode == "intake-only":
        redis_url = os.environ.get("MOSTRADOR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
        env |= {"MOSTRADOR_REDIS_URL": redis_url, "MOSTRADOR_QUEUE_NAMESPACE": f"bench-{os.getpid()}-{time.time_ns()}"}
    settings = Settings(database_url=database_url, var_dir=var, secret_key="bench", wa_app_secret=SECRET)
    upgrade(database_url)
    asyncio.run(seed(settings, outbound))
    port = free_port()
    health = f"http://127.0.0.1:{port}/healthz"
    with server([str(BIN / "mostrador"), "serve", "--port", str(port)], env, health):
        if mode != "sqlite":
            asyncio.run(checkpoint(database_url))
        yield Target(f"http://127.0.0.1:{port}/webhooks/whatsapp", settings=settings, env=env, health=health)


def drain(mode: str, target: Target) -> tuple[dict[str, int], float]:
    """Wait until every stored event is processed (starting the worker in intake-only mode); how long it took."""
    assert target.settings is not None
    started = time.monotonic()
    with contextlib.ExitStack() as workers:
        if mode == "intake-only":
            workers.enter_context(server([str(BIN / "mostrador"), "worker"], target.env, target.health))
        deadline = started + 600
        while time.monotonic() < deadline:
            state = asyncio.run(counts(target.settings))
            if state["waiting"] == 0:
                break
            time.sleep(1)
    return asyncio.run(counts(target.settings)), time.monotonic() - started


@contextlib.contextmanager
def bare() -> Iterator[Target]:
    port = free_port()
    with server(
        [str(BIN / "uvicorn"), "bench.bare_app:app", "--port", str(port), "--log-level", "warning", "--no-access-log"],
        {"PYTHONPATH": str(ROOT)},
        f"http://127.0.0.1:{port}/",
    ):
        yield Target(f"http://127.0.0.1:{port}/webhooks/whatsapp")


@contextlib.contextmanager
def floor(mode: str, work: Path) -> Iterator[Target]:
    """The durable floor (bench/floor_app.py) on the mode's database."""
    if mode == "postgres":
        database = os.environ.get("MOSTRADOR_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
        database = asyncio.run(reset_postgres(database, "mostrador_bench_floor")).replace("+asyncpg", "")
    else:
        database = str(work / f"floor-{mode}.db")
    port = free_port()
    with server(
        [str(BIN / "uvicorn"), "bench.floor_app:app", "--port", str(port), "--log-level", "warning", "--no-access-log"],
        {"PYTHONPATH": str(ROOT), "FLOOR_DATABASE": database, "FLOOR_APP_SECRET": SECRET},
        f"http://127.0.0.1:{port}/",
    ):
        if mode == "postgres":
            asyncio.run(checkpoint(database))
        yield Target(f"http://127.0.0.1:{port}/webhooks/whatsapp", database=database)


async def floor_rows(database: str) -> int:
    if database.startswith("postgresql://"):
        connection = await asyncpg.connect(database)
        try:
            return int(await connection.fetchval("SELECT count(*) FROM floor_events"))
        finally:
            await connection.close()
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT count(*) FROM floor_events").fetchone()[0])


@dataclass
class Rounds:
    """One endpoint's runs, each beside the bare endpoint's run of the same round."""

    runs: list[Run] = field(default_factory=list)
    bare: list[Run] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(run.ok for run in self.runs)

    @property
    def other(self) -> int:
        return sum(run.other for run in self.runs)

    @property
    def seconds(self) -> float:
        return sum(run.seconds for run in self.runs)

    def row(self, label: str, lost: str = "—", *, floor: Rounds | None = None) -> str:
        rate = statistics.median(run.rate for run in self.runs)
        ratios = [run.rate / bare.rate for run, bare in zip(self.runs, self.bare, strict=True)]
        share = f"{100 * statistics.median(ratios):.0f} % ({' / '.join(f'{100 * r:.0f}' for r in ratios)})"
        if floor is not None:
            of_floor = [run.rate / other.rate for run, other in zip(self.runs, floor.runs, strict=True)]
            share += f"; {100 * statistics.median(of_floor):.0f} % of the floor"
        p50 = statistics.median(run.p50_ms for run in self.runs)
        p99 = max(run.p99_ms for run in self.runs)
        other = "—" if lost == "—" else str(self.other)
        return f"| {label} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {share} | {other} | {lost} |"


def split(bodies: Path, parts: int, work: Path) -> list[Path]:
    """The bodies file cut into ``parts`` files of consecutive lines (every body stays unique across rounds)."""
    lines = bodies.read_text().splitlines(keepends=True)
    size = -(-len(lines) // parts)
    files = []
    for index in range(parts):
        part = work / f"bodies-{index}.tsv"
        part.write_text("".join(lines[index * size : (index + 1) * size]))
        files.append(part)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=6, help="length of one run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per mode; each runs bare, floor and serve back to back"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--bodies",
        type=int,
        default=0,
        help="unique bodies (default: 30,000 per second of load, more than the fastest durable endpoint takes)",
    )
    parser.add_argument("--outbound", type=int, default=0, help="messages the statuses refer to (default: enough)")
    parser.add_argument("--modes", default="sqlite,postgres,intake-only")
    args = parser.parse_args()
    load_seconds = args.seconds * args.rounds
    with tempfile.TemporaryDirectory(prefix="mostrador-bench-") as tmp, bare() as baseline:
        work = Path(tmp)
        bodies = work / "bodies.tsv"
        count = args.bodies or 30_000 * load_seconds
        args.outbound = args.outbound or count // 4 + 1  # every (wamid, status) body is unique
        write_bodies(bodies, count, args.outbound)
        parts = split(bodies, args.rounds, work)
        rows: list[str] = []
        checks: list[str] = []
        bare_runs: list[Run] = []
        for mode in args.modes.split(","):
            database = "sqlite" if mode == "sqlite" else "postgres"
            floor_rounds, serve_rounds = Rounds(), Rounds()
            with floor(database, work) as floor_target, serve_under_test(mode, work, args.outbound) as target:
                drained = 0.0
                for part in parts:  # back to back, so a slow spell of this shared machine hits all three alike
                    # The bare endpoint stores nothing, so it may see a body twice.
                    bare_run = wrk(baseline.url, part, args.seconds, args.connections, allow_repeats=True)
                    bare_runs.append(bare_run)
                    for rounds, endpoint in ((floor_rounds, floor_target), (serve_rounds, target)):
                        rounds.runs.append(wrk(endpoint.url, part, args.seconds, args.connections))
                        rounds.bare.append(bare_run)
                    if mode != "intake-only":  # an embedded serve's backlog would run into the next bare run
                        drained += drain(mode, target)[1]
                floor_stored = asyncio.run(floor_rows(floor_target.database))
                state, last_drain = drain(mode, target)
                drained += last_drain
            rows.append(
                floor_rounds.row(
                    f"durable floor — {database} (HMAC, JSON, group commit; nothing else)",
                    str(max(0, floor_rounds.ok - floor_stored)),
                )
            )
            stored_inbound = state["events"] // 4  # bodies go out in file order: every 4th is a customer message
            lost = max(0, serve_rounds.ok - state["events"])  # every body is unique: acknowledged but missing = lost
            in_flight = max(0, state["events"] - serve_rounds.ok)  # stored, but wrk stopped before reading the answer
            sustained = state["events"] / (serve_rounds.seconds + drained)
            checks.append(
                f"- {mode}: {serve_rounds.ok:,} bodies acknowledged, {state['events']:,} stored — lost: {lost}, "
                f"duplicated: 0 (unique key), {in_flight} stored while wrk was stopping; "
                f"non-200 answers: {serve_rounds.other}; "
                f"after processing: {state['inbound']:,} customer messages (expected ≈{stored_inbound:,}) and "
                f"{state['statuses']:,} statuses applied (expected ≈{state['events'] - stored_inbound:,}), "
                f"{state['not_handled']} events not handled; processing took {drained:.0f} s after the load "
                f"stopped, summed over the rounds (applied {sustained:,.0f} events/s over load and drain: what this "
                "machine sustains)"
            )
            rows.append(serve_rounds.row(f"`mostrador serve` — {MODE_LABELS[mode]}", str(lost), floor=floor_rounds))
    bare_rate = statistics.median(run.rate for run in bare_runs)
    bare_row = (
        f"| bare ASGI endpoint (baseline) | {bare_rate:,.0f} | {statistics.median(run.p50_ms for run in bare_runs):.1f}"
        f" | {max(run.p99_ms for run in bare_runs):.1f} | 100 % | — | — |"
    )
    body = f"""Measured {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} on {machine()}.
wrk (1 thread, {args.connections} connections) on loopback posts unique signed bodies (statuses 3 : 1 customer
messages); one uvicorn process serves, with the settings `serve` gives it (log level warning, no access log) for
all three endpoints. Each mode runs {args.rounds} rounds; a round is {args.seconds} s on the bare
endpoint, then the floor, then `mostrador serve`, back to back. This machine is a shared VM whose speed drifts by
±15 % within minutes, so each share of bare is taken against the bare run of the same round: the median, then
every round's. Rates and p50 are medians over the rounds, p99 the worst round's. Reproduce: `make bench` or
`.venv/bin/python -m bench.intake --seconds {args.seconds} --rounds {args.rounds}`.

| endpoint | acknowledged events/s | p50 ms | p99 ms | share of bare (rounds) | non-200 | lost |
|---|---|---|---|---|---|---|
{bare_row}
{chr(10).join(rows)}

{chr(10).join(checks)}
"""
    write_section("P1 — webhook intake", body)
    print(body)


if __name__ == "__main__":
    main()
