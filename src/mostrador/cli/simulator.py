from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from mostrador.cli.common import fail
from mostrador.simulator import SimNumber, SimulatorConfig, create_simulator_app

sim_app = typer.Typer(no_args_is_help=True)


@sim_app.command("serve")
def sim_serve(
    callback: Annotated[str, typer.Option(help="Where to POST webhooks, e.g. http://127.0.0.1:8000/webhooks/whatsapp")],
    app_secret: Annotated[str, typer.Option(help="App secret used to sign webhooks (X-Hub-Signature-256)")],
    port: Annotated[int, typer.Option(help="Port for the simulated Graph API")] = 8001,
    host: Annotated[str, typer.Option(help="Bind address (loopback by default)")] = "127.0.0.1",
    phone_number_id: Annotated[
        list[str] | None, typer.Option(help="Simulated business phone number id (repeatable)")
    ] = None,
    waba_id: Annotated[str, typer.Option(help="Simulated WhatsApp Business Account id")] = "200000000000001",
    access_token: Annotated[str, typer.Option(help="Bearer token the simulator accepts")] = "sim-access-token",  # noqa: S107
) -> None:
    """Run the Cloud API simulator standalone: Graph at the root, so MOSTRADOR_WA_GRAPH_URL can point at it."""
    if not callback.startswith(("http://", "https://")):
        raise fail("--callback must be an http(s) URL", 2)
    ids = phone_number_id or ["100000000000001"]
    numbers = [
        SimNumber(phone_number_id=pid, display_phone_number=f"1555000{index:04d}", waba_id=waba_id)
        for index, pid in enumerate(ids, start=1)
    ]
    config = SimulatorConfig(
        callback_url=callback,
        app_secret=app_secret,
        access_token=access_token,
        numbers=numbers,
        public_base_url=f"http://{host}:{port}",
    )
    typer.secho(f"Simulador de la Cloud API en http://{host}:{port} (teléfono: /phone)", fg=typer.colors.GREEN)
    for number in numbers:
        typer.echo(f"  phone_number_id={number.phone_number_id} waba_id={number.waba_id} token={access_token}")
    uvicorn.run(create_simulator_app(config), host=host, port=port, log_level="warning")
