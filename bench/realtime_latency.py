"""P3 — webhook to agent screen: the time from a customer's webhook arriving to the SSE event reaching a
connected, logged-in agent, under the P1 webhook load (the same signed mix, statuses 3 : 1 customer messages,
posted by wrk from a separate process), paced at several rates and unpaced.

The probe is a customer message from one dedicated customer (a new wamid each time) posted by the benchmark
itself; the clock starts when its POST starts and stops when ``message.created`` for that customer's
conversation arrives on /events. Probes go one after the other, so each event pairs with its probe.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.common import BIN, ROOT, free_port, machine, percentile, server, stop, write_section
from bench.intake import SECRET, customer_text, envelope, reset_postgres, seed, server_env, sign, write_bodies
from mostrador.accounts.service import account as account_service
from mostrador.config import Settings
from mostrador.migrate import upgrade
from mostrador.models import Role
from mostrador.runtime import build_runtime
from mostrador.users.schemas import UserCreate
from mostrador.users.service import user as user_service

LOAD_CONNECTIONS = 32
REDIS_URL = os.environ.get("MOSTRADOR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
MODES = {"sqlite": "embedded (SQLite)", "postgres": "distributed (PostgreSQL)"}
PROBE_CUSTOMER = "5491100000001"
EMAIL, PASSWORD = "agente@bench.example", "bench-password"


async def add_agent(settings: Settings) -> None:
    runtime = build_runtime(settings)
    try:
        async with runtime.unit_of_work() as session:
            account = await account_service.first(session)
            assert account is not None
            await user_service.create(
                session, account, UserCreate(email=EMAIL, name="Agente", password=PASSWORD, role=Role.agent)
            )
    finally:
        await runtime.aclose()


async def login(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF field on the login page"
    answer = await client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)})
    assert answer.status_code == 303, answer.text[:300]


def probe_body(index: int) -> bytes:
    value = customer_text(PROBE_CUSTOMER, f"wamid.probe{index}-{time.time_ns()}", "¿Hay alguien?", int(time.time()))
    return json.dumps(envelope(value), separators=(",", ":")).encode()


def start_load(url: str, bodies: Path, seconds: int, rate: float | None) -> subprocess.Popen[str]:
    """wrk posting the P1 mix; ``rate`` None is unpaced (as fast as the server answers, like P1)."""
    env = {**os.environ, "BODIES": str(bodies), "WRK_THREADS": "1"}
    if rate:
        env["WRK_RATE"] = str(rate)
    script = str(ROOT / "bench" / "wrk_webhooks.lua")
    return subprocess.Popen(
        ["wrk", "-t1", f"-c{LOAD_CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", "-s", script, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def stop_load(load: subprocess.Popen[str]) -> int:
    """Stop wrk (it reports on SIGINT) and return how many webhooks it had acknowledged."""
    load.send_signal(signal.SIGINT)
    output, _ = load.communicate(timeout=60)
    match = re.search(r"RESULT ok=(\d+)", output)
    if not match:
        raise RuntimeError(output)
    return int(match.group(1))


async def measure(
    base: str, rate: float | None, seconds: int, bodies: Path
) -> tuple[list[float], list[float], int, float]:
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as agent,
        httpx.AsyncClient(base_url=base, timeout=30) as poster,
    ):
        await login(agent)
        arrivals: asyncio.Queue[tuple[float, int]] = asyncio.Queue()
        acks: list[float] = []

        async def listen() -> None:
            async with agent.stream("GET", "/events", timeout=None) as stream:
                if stream.status_code != 200:
                    raise RuntimeError(f"/events answered {stream.status_code}")
                async for line in stream.aiter_lines():
                    if line.startswith("data:"):
                        try:
                            data = json.loads(line[5:])
                        except json.JSONDecodeError:
                            continue  # e.g. the reconnect notice
                        if isinstance(data, dict) and data.get("type") == "message.created":
                            arrivals.put_nowait((time.monotonic(), int(data.get("conversation_id") or 0)))

        async def probe(index: int, conversation_id: int | None, deadline: float) -> tuple[float, int]:
            body = probe_body(index)
            started = time.monotonic()
            answer = await poster.post("/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": sign(body)})
            answer.raise_for_status()
            acks.append((time.monotonic() - started) * 1000)
            while True:
                arrived, conversation = await asyncio.wait_for(arrivals.get(), max(0.1, deadline - time.monotonic()))
                if conversation_id is None or conversation == conversation_id:
                    return (arrived - started) * 1000, conversation

        listener = asyncio.create_task(listen())
        await asyncio.sleep(1.0)
        if listener.done():
            listener.result()  # raises why the stream could not be opened
        _warm, conversation_id = await probe(0, None, time.monotonic() + 30)  # before the load: learn its thread
        load_started = time.monotonic()
        load = start_load(f"{base}/webhooks/whatsapp", bodies, seconds + 60, rate) if rate != 0 else None
        await asyncio.sleep(2.0)  # let the load settle
        latencies: list[float] = []
        deadline = load_started + seconds
        index = 1
        while time.monotonic() < deadline:
            try:
                latency, _ = await probe(index, conversation_id, deadline + 30)
                latencies.append(latency)
            except TimeoutError:
                latencies.append(float("inf"))
                break
            index += 1
            await asyncio.sleep(0.2)
        acknowledged = stop_load(load) if load is not None else 0
        load_seconds = time.monotonic() - load_started
        listener.cancel()
        return latencies, acks[1:], acknowledged, load_seconds  # the first ack is the warm-up probe's


def run(mode: str, label: str, rate: float | None, seconds: int, work: Path, bodies: Path, outbound: int) -> list[str]:
    var = work / f"{mode}-{label}"
    var.mkdir()
    if mode == "postgres":
        admin = os.environ.get("MOSTRADOR_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
        database_url = asyncio.run(reset_postgres(admin, "mostrador_bench_p3"))
    else:
        database_url = f"sqlite+aiosqlite:///{var / 'bench.db'}"
    settings = Settings(database_url=database_url, var_dir=var, secret_key="bench", wa_app_secret=SECRET)
    upgrade(database_url)
    asyncio.run(seed(settings, outbound))
    asyncio.run(add_agent(settings))
    port = free_port()
    env = server_env(database_url, var)
    with contextlib.ExitStack() as stack:
        if mode == "postgres":  # distributed: jobs go through Redis to a `mostrador worker` process
            env |= {"MOSTRADOR_REDIS_URL": REDIS_URL, "MOSTRADOR_QUEUE_NAMESPACE": f"bench-p3-{os.getpid()}-{label}"}
            stack.enter_context(worker(env))
        stack.enter_context(
            server([str(BIN / "mostrador"), "serve", "--port", str(port)], env, f"http://127.0.0.1:{port}/healthz")
        )
        latencies, acks, acknowledged, load_seconds = asyncio.run(
            measure(f"http://127.0.0.1:{port}", rate, seconds, bodies)
        )
    finite = [value for value in latencies if value != float("inf")]
    unseen = len(latencies) - len(finite)
    offered = "none" if rate == 0 else "unpaced (as P1)" if rate is None else f"{rate:,.0f} /s"
    return [
        f"| {MODES[mode]} | {offered} | {acknowledged / load_seconds:,.0f} /s | {len(latencies)} | "
        f"{percentile(finite, 50):.0f} | {percentile(finite, 99):.0f} | {max(finite, default=float('nan')):.0f} | "
        f"{unseen} | {percentile(acks, 50):.0f} / {percentile(acks, 99):.0f} |"
    ]


@contextlib.contextmanager
def worker(env: dict[str, str]) -> Iterator[None]:
    process = subprocess.Popen(
        [str(BIN / "mostrador"), "worker", "--threads", "8"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        deadline = time.monotonic() + 60
        while "worker ready" not in process.stderr.readline().decode():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the worker did not start")
        # Keep reading its stderr so a chatty worker never blocks on a full pipe.
        threading.Thread(target=process.stderr.read, daemon=True).start()
        yield
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--loads", default="0,250,500,1000,max", help="offered P1 webhook rates (events/s); max = unpaced wrk"
    )
    parser.add_argument("--seconds", type=int, default=30, help="probing time per load level")
    parser.add_argument("--modes", default="sqlite,postgres", help="sqlite (embedded) and/or postgres (distributed)")
    args = parser.parse_args()
    levels = [None if value == "max" else float(value) for value in args.loads.split(",")]
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mostrador-p3-") as tmp:
        work = Path(tmp)
        bodies = work / "bodies.tsv"
        count = 6_000 * (args.seconds + 60)  # more than unpaced wrk can post in the time
        outbound = count // 4 + 1
        write_bodies(bodies, count, outbound)
        for mode in args.modes.split(","):
            for rate in levels:
                label = "max" if rate is None else f"rate{int(rate)}"
                rows += run(mode, label, 0 if rate == 0 else rate, args.seconds, work, bodies, outbound)
    body = f"""Measured {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} on {machine()}. Embedded mode: SQLite,
one `mostrador serve` (intake and processing in one process). Distributed mode: PostgreSQL, one `mostrador
serve` (intake, SSE) and one `mostrador worker` (8 threads) through Redis. A logged-in agent holds `/events` open. wrk
({LOAD_CONNECTIONS} connections, a separate process) posts the P1 webhook mix — statuses 3 : 1 customer
messages from other customers — paced on a schedule at the offered rate, or unpaced as in P1. Meanwhile the
benchmark posts a message from one more customer every 200 ms and times webhook POST → `message.created` of
that customer's conversation on the agent's stream ({args.seconds} s per level; a probe not seen within 30 s
ends the level). Reproduce: `.venv/bin/python -m bench.realtime_latency --loads {args.loads} --seconds
{args.seconds}`.

| mode | offered load | acknowledged load | probes | p50 ms | p99 ms | max ms | not seen | probe's ack p50 / p99 ms |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Reading: latency stays flat while the process(es) apply webhooks as fast as they arrive; past that a backlog
builds and every later message waits behind it (the unpaced rows, where the intake alone takes most of the 2
cores). In embedded mode `MOSTRADOR_WORKER_LIVE_SHARE` moves that point (docs/architecture.md).
"""
    write_section("P3 — webhook to the agent's screen (SSE)", body)
    print(body)


if __name__ == "__main__":
    main()
