from __future__ import annotations

import typer

from mostrador.cli import admin, serve
from mostrador.cli import simulator as simulator_cli
from mostrador.cli import webhooks as webhooks_cli

app = typer.Typer(
    name="mostrador",
    help="Mostrador: a self-hosted WhatsApp contact center. Every command reads MOSTRADOR_* settings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve", help="Serve the web app and API with the embedded worker (--demo: demo data + simulator).")(
    serve.serve
)
app.command("worker", help="Run a worker process for distributed mode (needs MOSTRADOR_REDIS_URL).")(serve.worker)
app.command("migrate", help="Apply database migrations.")(admin.migrate)
app.command("seed-demo", help="Load the demo business (idempotent).")(admin.seed_demo)
app.add_typer(admin.user_app, name="user", help="Manage users (agents, supervisors, admins).")
app.add_typer(admin.token_app, name="token", help="Manage API tokens.")
app.add_typer(admin.inbox_app, name="inbox", help="Manage inboxes (connected numbers).")
app.add_typer(simulator_cli.sim_app, name="sim", help="The built-in WhatsApp Cloud API simulator.")
app.add_typer(webhooks_cli.webhooks_app, name="webhooks", help="Stored webhook events.")
