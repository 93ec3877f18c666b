"""The demo business: placeholder until the full demo data lands (see seed_demo_data)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.config import Settings

DEMO_LOGIN_EMAIL = "lucia@casaolivo.example"
DEMO_LOGIN_PASSWORD = "mostrador-demo"


async def seed_demo_data(session: AsyncSession, settings: Settings) -> str:
    return "demo data: nothing to do"
