"""The demo's simulator: mounted at /sim, with the demo's templates and customers who write at start-up."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from mostrador.config import Settings
from mostrador.demo import data
from mostrador.logging import get_logger
from mostrador.models import Contact, Inbox
from mostrador.runtime import Runtime
from mostrador.simulator import SimNumber, Simulator, SimulatorConfig
from mostrador.worker import enqueue

log = get_logger(__name__)


def demo_simulator_config(settings: Settings) -> SimulatorConfig:
    public = settings.resolved_public_url
    return SimulatorConfig(
        callback_url=f"{public}/webhooks/whatsapp",
        app_secret=settings.wa_app_secret,
        access_token=data.ACCESS_TOKEN,
        verify_token=settings.wa_verify_token,
        numbers=[
            SimNumber(
                phone_number_id=data.PHONE_NUMBER_ID,
                display_phone_number="".join(ch for ch in data.DISPLAY_NUMBER if ch.isdigit()),
                waba_id=data.WABA_ID,
                verified_name=data.ACCOUNT_NAME,
            )
        ],
        public_base_url=f"{public}/sim",
        template_review_delay_s=1.0,
    )


async def bring_demo_to_life(runtime: Runtime, sim: Simulator, *, delay_s: float = 1.5) -> None:
    """Register the demo templates at the simulated Meta and, on a fresh demo, let customers write in."""
    try:
        await _bring_to_life(runtime, sim, delay_s)
    except Exception as error:  # the demo must start even if this part fails; say why
        log.error("demo.start_failed", error=repr(error))


async def _bring_to_life(runtime: Runtime, sim: Simulator, delay_s: float) -> None:
    for template in data.TEMPLATES:
        if sim.state.find_template(data.WABA_ID, template["name"], template["language"]) is None:
            sim.create_template(data.WABA_ID, template)
    async with runtime.unit_of_work() as session:
        inbox = (await session.execute(select(Inbox).where(Inbox.channel_key == data.PHONE_NUMBER_ID))).scalar_one()
        enqueue(session, "templates.sync", inbox.id, delay_s=delay_s + 1.0)
        known = set(
            (
                await session.execute(select(Contact.wa_id).where(Contact.wa_id.in_([w for w, _n, _t in data.LIVE])))
            ).scalars()
        )
    if known:
        return
    await asyncio.sleep(delay_s)  # let the server accept the webhooks these messages produce
    for wa_id, name, text in data.LIVE:
        sim.inbound(
            {"phone_number_id": data.PHONE_NUMBER_ID, "from": wa_id, "name": name, "type": "text", "text": text}
        )
        await asyncio.sleep(0.3)
    log.info("demo.customers_wrote", count=len(data.LIVE))
