from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from mostrador.cli.common import fail, run_with_runtime
from mostrador.models import WebhookEventState
from mostrador.runtime import Runtime
from mostrador.webhooks.service import webhook_intake

webhooks_app = typer.Typer(no_args_is_help=True)

REPLAYABLE = {
    "failed": [WebhookEventState.failed],
    "unroutable": [WebhookEventState.unroutable],
    "received": [WebhookEventState.received],
    "all": list(WebhookEventState),
}


@webhooks_app.command("replay")
def replay(
    since: Annotated[str | None, typer.Option(help="Only events received at or after this ISO time")] = None,
    state: Annotated[str, typer.Option(help="failed, unroutable, received or all")] = "all",
) -> None:
    """Re-process stored webhook events (idempotent: what was already applied is not applied twice)."""
    if state not in REPLAYABLE:
        raise fail(f"--state must be one of {', '.join(REPLAYABLE)}", 2)
    try:
        since_at = datetime.fromisoformat(since) if since else None
    except ValueError:
        raise fail("--since must be an ISO date or time, e.g. 2026-11-23T10:00:00+00:00", 2) from None
    if since_at is not None and since_at.tzinfo is None:
        raise fail("--since needs a time zone, e.g. 2026-11-23T10:00:00+00:00", 2)

    async def work(runtime: Runtime) -> str:
        result = await webhook_intake.replay(runtime, since_at, REPLAYABLE[state])
        return (
            f"replayed {result.total} events: {result.handled} handled, {result.failed} failed, "
            f"{result.unroutable} unroutable"
        )

    typer.echo(run_with_runtime(work))
