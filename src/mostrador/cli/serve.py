from __future__ import annotations

import asyncio
import signal
import threading
from typing import Annotated

import typer
import uvicorn

from mostrador.app import create_app
from mostrador.cli.common import fail, migrate_database, settings
from mostrador.demo.seed import DEMO_LOGIN_EMAIL, DEMO_LOGIN_PASSWORD, seed_demo_data
from mostrador.runtime import Runtime, build_runtime
from mostrador.tasks import import_all_tasks
from mostrador.worker.dramatiq_app import BACKGROUND_THREADS, LoopThread, build_broker, build_workers, register_actors
from mostrador.worker.gates import JobGates
from mostrador.worker.sweeper import run_sweeper


def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Seed the demo business and mount the simulator at /sim")
    ] = False,
    port: Annotated[int | None, typer.Option(help="Port (default MOSTRADOR_PORT or 8000)")] = None,
    host: Annotated[str | None, typer.Option(help="Bind address (default MOSTRADOR_HOST or 127.0.0.1)")] = None,
) -> None:
    """Serve Mostrador: web UI, JSON API, webhooks and (in embedded mode) the job runner."""
    loaded = settings()
    overrides: dict[str, object] = {}
    if port is not None:
        overrides["port"] = port
    if host is not None:
        overrides["host"] = host
    if overrides:
        loaded = loaded.model_copy(update=overrides)
    if loaded.is_sqlite or demo:
        migrate_database(loaded)
    if demo:

        async def seed() -> str:
            runtime = build_runtime(loaded)
            try:
                async with runtime.unit_of_work() as session:
                    return await seed_demo_data(session, loaded)
            finally:
                await runtime.aclose()

        typer.echo(asyncio.run(seed()))
    app = create_app(loaded, demo=demo)
    url = loaded.resolved_public_url
    typer.secho(f"Mostrador está listo en {url}", fg=typer.colors.GREEN, bold=True)
    if demo:
        typer.echo(f"  Acceso demo: {DEMO_LOGIN_EMAIL} / {DEMO_LOGIN_PASSWORD}")
        typer.echo(f"  Teléfono simulado: {url}/sim/phone")
    # access_log=False: uvicorn formats every access line (client address, quoted path) before the logger drops it
    # at level warning, about 3 % of a webhook delivery's CPU for a line nobody sees.
    uvicorn.run(app, host=loaded.host, port=loaded.port, log_level="warning", access_log=False, proxy_headers=True)


def worker(
    threads: Annotated[int, typer.Option(help="Dramatiq threads for live queues (background ones have their own)")] = 8,
    sweeper: Annotated[bool, typer.Option(help="Also run the sweeper that re-rings stale work")] = True,
    idle_poll_ms: Annotated[
        int, typer.Option(min=10, max=2000, help="Longest wait between polls of an empty queue (latency when idle)")
    ] = 100,
) -> None:
    """Process jobs from Redis (distributed mode). Stop with Ctrl+C or SIGTERM."""
    loaded = settings()
    if not loaded.redis_url:
        raise fail("the worker needs MOSTRADOR_REDIS_URL (embedded mode runs jobs inside `mostrador serve`)", 2)
    import_all_tasks()
    loop = LoopThread()

    async def build() -> Runtime:
        runtime = build_runtime(loaded)
        await runtime.start()
        return runtime

    runtime = loop.run(build())
    broker = build_broker(loaded.redis_url, namespace=loaded.queue_namespace)
    register_actors(broker, lambda: runtime, loop, JobGates(live_writers=loaded.worker_writers))
    sweeper_future = loop.run_in_loop(run_sweeper(runtime)) if sweeper else None
    # Dramatiq's default backs off to 1 s on an empty queue: the first customer message after a quiet spell
    # reached the agent up to a second late (bench/realtime_latency.py, distributed, no load).
    pools = build_workers(broker, threads=threads, idle_poll_ms=idle_poll_ms)
    typer.echo(
        f"worker ready: {threads} threads (+{BACKGROUND_THREADS} for background) on {loaded.redis_url}", err=True
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    for pool in pools:
        pool.stop(timeout=10_000)
    if sweeper_future is not None:
        sweeper_future.cancel()
    loop.run(runtime.aclose())
    broker.close()
    loop.stop()
