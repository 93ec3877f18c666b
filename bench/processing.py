"""Processing throughput: stored webhook bodies → applied rows, in one process, no HTTP.

How fast the embedded runner turns customer messages into conversations once they are stored (the part of P3's
latency that grows under load). Customers are a mix of first-time writers and returning ones (the demo's
case: a returning customer writes into an open conversation). Reports messages/s, CPU ms and SQL statements
per message, on SQLite and PostgreSQL.

    python -m bench.processing --messages 2000 [--databases sqlite,postgres] [--no-write]

The baseline, measured in the same run on a fresh database, is the one-body-per-job path (what every customer
message took before webhooks.process_messages, and what odd bodies still take).

Delivery receipts are measured too, in an account with a long history (``HISTORY`` earlier messages): on SQLite
without statistics (the baseline: SQLite never analyzes by itself) and with them (``Database.refresh_statistics``,
what the sweeper runs), and on PostgreSQL (analyzed after seeding, as autovacuum would).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, func, select

from bench.common import machine, write_section
from bench.intake import SECRET, STATUSES, customer_text, envelope, reset_postgres, seed
from mostrador.config import Settings
from mostrador.migrate import upgrade
from mostrador.models import ChannelKind, Direction, Message, WebhookEvent, WebhookEventState
from mostrador.runtime import Runtime, build_runtime
from mostrador.webhooks.repository import insert_many_if_new
from mostrador.webhooks.service import webhook_intake
from mostrador.worker.backends import InProcessJobBackend
from mostrador.worker.enqueue import PendingJob

POSTGRES_ADMIN = os.environ.get("MOSTRADOR_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Result:
    database: str
    path: str
    customers: str
    messages: int
    seconds: float
    cpu_seconds: float
    statements: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def message_bodies(count: int, customers: int, prefix: str, round_: str) -> list[bytes]:
    now = int(time.time())
    bodies = []
    for index in range(count):
        value = customer_text(
            f"52155{prefix}{index % customers:06d}",
            f"wamid.{prefix}.{round_}.{index}",
            f"Hola, ¿dónde está mi pedido {index}?",
            now,
        )
        bodies.append(json.dumps(envelope(value), separators=(",", ":")).encode())
    return bodies


async def run_once(settings: Settings, database: str, path: str, customers: str, bodies: list[bytes]) -> Result:
    runtime = build_runtime(settings)
    await runtime.start()
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        backend = runtime.jobs
        assert isinstance(backend, InProcessJobBackend)
        before = await inbound_count(runtime)
        wall, cpu = time.perf_counter(), time.process_time()
        # Stored in small group commits, as the intake would; every job runs in this process.
        for start in range(0, len(bodies), 16):
            chunk = bodies[start : start + 16]
            if path == BATCHED:
                await asyncio.gather(*(webhook_intake.store(runtime, ChannelKind.WHATSAPP, body) for body in chunk))
            else:  # the baseline: every body in a job of its own, the path odd bodies still take
                items = [(hashlib.sha256(body).hexdigest(), body.decode()) for body in chunk]
                created = await insert_many_if_new(runtime.db, ChannelKind.WHATSAPP, items)
                await runtime.jobs.send([PendingJob("webhooks.process", (event_id,)) for event_id in created.values()])
        await backend.drain(timeout=600)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        async with runtime.unit_of_work() as session:
            waiting = (
                await session.execute(
                    select(func.count())
                    .select_from(WebhookEvent)
                    .where(WebhookEvent.state != WebhookEventState.handled)
                )
            ).scalar_one()
        if waiting:
            raise RuntimeError(f"{waiting} bodies not handled")
        recorded = await inbound_count(runtime) - before
        if recorded != len(bodies):
            raise RuntimeError(f"{recorded} messages recorded for {len(bodies)} bodies")
        return Result(database, path, customers, recorded, wall, cpu, statements)
    finally:
        event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", count)
        await runtime.aclose()


async def inbound_count(runtime: Runtime) -> int:
    async with runtime.unit_of_work() as session:
        statement = select(func.count()).select_from(Message).where(Message.direction == Direction.inbound)
        return int((await session.execute(statement)).scalar_one())


HISTORY = 60_000


@dataclass
class ReceiptsResult:
    database: str
    statistics: str
    statuses: int
    seconds: float
    cpu_seconds: float


def status_bodies(count: int) -> list[bytes]:
    """sent, delivered and read for each of ``count // 3`` of the seeded outbound messages."""
    now = str(int(time.time()))
    bodies = []
    for index in range(count):
        status = {"id": f"wamid.out{index // 3}", "status": STATUSES[index % 3], "timestamp": now, "recipient_id": "1"}
        bodies.append(json.dumps(envelope({"statuses": [status]}), separators=(",", ":")).encode())
    return bodies


async def receipts_once(database: str, statistics: bool, count: int) -> ReceiptsResult:
    with tempfile.TemporaryDirectory() as var:
        settings = await fresh_settings(database, Path(var), outbound=max(HISTORY, count // 3 + 1))
        runtime = build_runtime(settings)
        await runtime.start()
        try:
            if statistics:
                await runtime.db.refresh_statistics()
            bodies = status_bodies(count)
            wall, cpu = time.perf_counter(), time.process_time()
            for start in range(0, len(bodies), 16):
                chunk = bodies[start : start + 16]
                await asyncio.gather(
                    *(webhook_intake.store(runtime, ChannelKind.WHATSAPP, body, urgent=False) for body in chunk)
                )
            assert isinstance(runtime.jobs, InProcessJobBackend)
            await runtime.jobs.drain(timeout=600)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            async with runtime.unit_of_work() as session:
                statement = (
                    select(func.count())
                    .select_from(WebhookEvent)
                    .where(WebhookEvent.state == WebhookEventState.handled)
                )
                handled = int((await session.execute(statement)).scalar_one())
            if handled != count:
                raise RuntimeError(f"{handled} of {count} receipts handled")
        finally:
            await runtime.aclose()
    label = "ANALYZE after seeding" if database == "postgres" else "refreshed" if statistics else "none"
    return ReceiptsResult(database, label, count, wall, cpu)


async def fresh_settings(database: str, var: Path, outbound: int = 10) -> Settings:
    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{var}/bench.db"
    else:
        url = await reset_postgres(POSTGRES_ADMIN, "mostrador_bench_processing")
    settings = Settings(database_url=url, var_dir=var, secret_key="bench", wa_app_secret=SECRET, redis_url="")
    await asyncio.to_thread(upgrade, url)
    await seed(settings, outbound=outbound)
    return settings


BATCHED = "batched"
ONE_BY_ONE = "one body per job"


async def receipts_async(count: int, databases: list[str]) -> list[ReceiptsResult]:
    results = []
    for database in databases:
        for statistics in (False, True) if database == "sqlite" else (True,):
            results.append(await receipts_once(database, statistics, count))
    return results


async def main_async(messages: int, databases: list[str]) -> list[Result]:
    results = []
    for database in databases:
        for path in (ONE_BY_ONE, BATCHED):
            with tempfile.TemporaryDirectory() as var:
                settings = await fresh_settings(database, Path(var))
                # First-time customers: every message opens a contact and a conversation.
                bodies = message_bodies(messages, messages, "1", "a")
                results.append(await run_once(settings, database, path, "new", bodies))
                # The same customers again, a few messages each, into their open conversations.
                bodies = message_bodies(messages, messages // 4, "1", "b")
                results.append(await run_once(settings, database, path, "returning", bodies))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(main_async(args.messages, args.databases.split(",")))
    receipts = asyncio.run(receipts_async(3 * args.messages, args.databases.split(",")))
    lines = [
        f"Machine: {machine()}. `python -m bench.processing --messages {args.messages}`: bodies stored in group "
        "commits of 16, then every job run by the embedded runner in the same process (no HTTP).",
        "",
        "| database | customers | path | messages | messages/s | × one by one | CPU ms / msg | statements / msg |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    baseline = {(r.database, r.customers): r.rate for r in results if r.path == ONE_BY_ONE}
    for r in results:
        lines.append(
            f"| {r.database} | {r.customers} | {r.path} | {r.messages} | {r.rate:,.0f} | "
            f"{r.rate / baseline[(r.database, r.customers)]:.1f} | {1000 * r.cpu_seconds / r.messages:.1f} | "
            f"{r.statements / r.messages:.1f} |"
        )
    lines += [
        "",
        f"Delivery receipts (statuses only, batched path) in an account with {HISTORY:,} earlier messages:",
        "",
        "| database | statistics | statuses | statuses/s | × no statistics | CPU ms / status |",
        "|---|---|---:|---:|---:|---:|",
    ]
    unanalyzed = next((r.statuses / r.seconds for r in receipts if r.statistics == "none"), None)
    for receipt in receipts:
        rate = receipt.statuses / receipt.seconds
        ratio = f"{rate / unanalyzed:.1f}" if unanalyzed and receipt.database == "sqlite" else "—"
        lines.append(
            f"| {receipt.database} | {receipt.statistics} | {receipt.statuses} | {rate:,.0f} | {ratio} | "
            f"{1000 * receipt.cpu_seconds / receipt.statuses:.2f} |"
        )
    print("\n".join(lines))
    if not args.no_write:
        write_section("Processing throughput (in-process)", "\n".join(lines))


if __name__ == "__main__":
    main()
