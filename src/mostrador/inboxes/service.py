from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.conversations.queue import offer_capacity
from mostrador.exceptions import Conflict, NotFound
from mostrador.inboxes.repository import InboxRepository
from mostrador.inboxes.schemas import InboxUpdate, WhatsAppInboxCreate
from mostrador.kit.crypto import decrypt_json, encrypt_json
from mostrador.kit.db.savepoint import savepoint
from mostrador.models import Account, ChannelKind, Inbox


class InboxService:
    async def create_whatsapp(
        self, session: AsyncSession, account: Account, data: WhatsAppInboxCreate, *, secret_key: str
    ) -> Inbox:
        repository = InboxRepository.from_session(session)
        if await repository.get_by_channel_key(ChannelKind.WHATSAPP, data.phone_number_id) is not None:
            raise Conflict(
                f"phone number id {data.phone_number_id} is already connected to an inbox", code="inbox_exists"
            )
        config: dict[str, Any] = {
            "phone_number_id": data.phone_number_id,
            "waba_id": data.waba_id,
            "access_token": data.access_token,
        }
        if data.graph_url:
            config["graph_url"] = data.graph_url.rstrip("/")
        if data.api_version:
            config["api_version"] = data.api_version
        inbox = Inbox(
            account_id=account.id,
            name=data.name,
            channel_kind=ChannelKind.WHATSAPP,
            channel_key=data.phone_number_id,
            business_account_id=data.waba_id,
            display_phone_number=data.display_phone_number,
            config_encrypted=encrypt_json(secret_key, config),
        )
        try:
            async with savepoint(session):
                await repository.add(inbox)
        except IntegrityError:
            raise Conflict(
                f"phone number id {data.phone_number_id} is already connected", code="inbox_exists"
            ) from None
        return inbox

    def config(self, inbox: Inbox, *, secret_key: str) -> dict[str, Any]:
        return decrypt_json(secret_key, inbox.config_encrypted)

    async def get(self, session: AsyncSession, account_id: int, inbox_id: int) -> Inbox:
        inbox = await InboxRepository.from_session(session).get(account_id, inbox_id)
        if inbox is None:
            raise NotFound(f"inbox {inbox_id} not found", code="inbox_not_found")
        return inbox

    async def update(self, session: AsyncSession, account_id: int, inbox_id: int, data: InboxUpdate) -> Inbox:
        inbox = await self.get(session, account_id, inbox_id)
        if data.name is not None:
            inbox.name = data.name
        if data.auto_assign is not None:
            if data.auto_assign and not inbox.auto_assign:
                offer_capacity(session, inbox.account_id)  # what waited while it was off
            inbox.auto_assign = data.auto_assign
        if "throughput_mps" in data.model_fields_set:  # sent empty: back to the server's default
            inbox.throughput_mps = data.throughput_mps
        await session.flush()
        return inbox

    async def list_for_account(self, session: AsyncSession, account_id: int) -> list[Inbox]:
        return await InboxRepository.from_session(session).list_for_account(account_id)

    async def route(self, session: AsyncSession, kind: ChannelKind, channel_key: str) -> Inbox | None:
        return await InboxRepository.from_session(session).get_by_channel_key(kind, channel_key)

    async def by_business_account(self, session: AsyncSession, business_account_id: str) -> list[Inbox]:
        return await InboxRepository.from_session(session).by_business_account(business_account_id)


inbox = InboxService()
