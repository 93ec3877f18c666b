from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from mostrador.accounts.service import account as account_service
from mostrador.cli.common import fail, migrate_database, run_with_runtime, settings
from mostrador.demo.seed import seed_demo_data
from mostrador.inboxes.schemas import WhatsAppInboxCreate
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.models import Account, Role
from mostrador.runtime import Runtime
from mostrador.users.schemas import UserCreate
from mostrador.users.service import user as user_service

user_app = typer.Typer(no_args_is_help=True)
token_app = typer.Typer(no_args_is_help=True)
inbox_app = typer.Typer(no_args_is_help=True)


def _validation_message(error: ValidationError) -> str:
    return "; ".join(f"--{'-'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}" for e in error.errors())


def migrate() -> None:
    """Apply every pending migration to MOSTRADOR_DATABASE_URL."""
    loaded = settings()
    migrate_database(loaded)
    typer.echo(f"database is up to date ({loaded.resolved_database_url.split('@')[-1]})")


def seed_demo() -> None:
    """Create the demo business: stores, agents, customers and conversations."""
    loaded = settings()
    migrate_database(loaded)

    async def work(runtime: Runtime) -> str:
        async with runtime.unit_of_work() as session:
            result = await seed_demo_data(session, runtime.settings)
        return result

    typer.echo(run_with_runtime(work))


async def _account(runtime: Runtime, account_id: int | None, account_name: str) -> Account:
    async with runtime.unit_of_work() as session:
        if account_id is not None:
            found = await account_service.get(session, account_id)
            if found is None:
                raise fail(f"no account {account_id}")
            return found
        first = await account_service.first(session)
        return first or await account_service.create(session, name=account_name)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Login e-mail")],
    password: Annotated[str, typer.Option(help="At least 8 characters")],
    role: Annotated[Role, typer.Option(help="admin, supervisor or agent")] = Role.agent,
    name: Annotated[str | None, typer.Option(help="Display name (default: the part before @)")] = None,
    account: Annotated[int | None, typer.Option(help="Account id (default: the first, created if none)")] = None,
    account_name: Annotated[str, typer.Option(help="Name of the account created when none exists")] = "Mi empresa",
) -> None:
    """Create a user."""
    try:
        data = UserCreate(email=email, password=password, role=role, name=name or email.split("@")[0])
    except ValidationError as error:
        raise fail(_validation_message(error), 2) from None

    async def work(runtime: Runtime) -> str:
        owner = await _account(runtime, account, account_name)
        async with runtime.unit_of_work() as session:
            created = await user_service.create(session, owner, data)
        return f"created {created.role.value} {created.email} (id {created.id}) in account {owner.id}"

    typer.echo(run_with_runtime(work))


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Option(help="The user the token acts as")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'CRM sync'")],
) -> None:
    """Create an API token and print it once (only its hash is stored)."""

    async def work(runtime: Runtime) -> str:
        async with runtime.unit_of_work() as session:
            owner = await user_service.get_by_email(session, email)
            _token, raw = await user_service.create_token(session, owner, name)
        return raw

    typer.echo(run_with_runtime(work))


@inbox_app.command("create-whatsapp")
def inbox_create_whatsapp(
    name: Annotated[str, typer.Option(help="Inbox name shown to agents")],
    phone_number_id: Annotated[str, typer.Option(help="Meta phone number id")],
    waba_id: Annotated[str, typer.Option(help="WhatsApp Business Account id")],
    access_token: Annotated[str, typer.Option(help="System-user access token")],
    graph_url: Annotated[str | None, typer.Option(help="Graph API base URL (Meta, a BSP, the simulator)")] = None,
    display_phone_number: Annotated[str, typer.Option(help="The number as customers see it")] = "",
    account: Annotated[int | None, typer.Option(help="Account id (default: the first)")] = None,
) -> None:
    """Connect a WhatsApp Business number; prints the inbox id."""
    try:
        data = WhatsAppInboxCreate(
            name=name,
            phone_number_id=phone_number_id,
            waba_id=waba_id,
            access_token=access_token,
            graph_url=graph_url,
            display_phone_number=display_phone_number,
        )
    except ValidationError as error:
        raise fail(_validation_message(error), 2) from None

    async def work(runtime: Runtime) -> int:
        owner = await _account(runtime, account, "Mi empresa")
        async with runtime.unit_of_work() as session:
            created = await inbox_service.create_whatsapp(
                session, owner, data, secret_key=runtime.settings.resolved_secret_key
            )
        return created.id

    typer.echo(run_with_runtime(work))
