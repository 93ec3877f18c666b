from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select

from mostrador.kit.repository import RepositoryBase
from mostrador.kit.tenancy import scoped
from mostrador.models import Contact, ContactIdentity


class ContactRepository(RepositoryBase[Contact]):
    model = Contact

    async def find_by_phone(self, account_id: int, phone_e164: str) -> list[Contact]:
        return await self.all(self.scoped_statement(account_id).where(Contact.phone_e164 == phone_e164))

    async def by_ids(self, account_id: int, contact_ids: Sequence[int]) -> list[Contact]:
        if not contact_ids:
            return []  # a batch of first-time customers: nothing to read
        return await self.all(self.scoped_statement(account_id).where(self.one_of(Contact.id, contact_ids)))

    async def find_by_whatsapp_ids(self, account_id: int, wa_id: str | None, bsuid: str | None) -> Contact | None:
        conditions = []
        if wa_id:
            conditions.append(Contact.wa_id == wa_id)
        if bsuid:
            conditions.append(Contact.bsuid == bsuid)
        if not conditions:
            return None
        statement = self.scoped_statement(account_id).where(or_(*conditions)).order_by(Contact.id).limit(1)
        return await self.one_or_none(statement)

    async def matching_any_whatsapp_ids(
        self, account_id: int, wa_ids: Sequence[str], bsuids: Sequence[str]
    ) -> list[Contact]:
        conditions = []
        if wa_ids:
            conditions.append(self.one_of(Contact.wa_id, wa_ids))
        if bsuids:
            conditions.append(self.one_of(Contact.bsuid, bsuids))
        if not conditions:
            return []
        return await self.all(self.scoped_statement(account_id).where(or_(*conditions)))

    async def matching_whatsapp_ids(self, account_id: int, wa_id: str | None, bsuid: str | None) -> list[Contact]:
        conditions = []
        if wa_id:
            conditions.append(Contact.wa_id == wa_id)
        if bsuid:
            conditions.append(Contact.bsuid == bsuid)
        if not conditions:
            return []
        return await self.all(self.scoped_statement(account_id).where(or_(*conditions)))


class ContactIdentityRepository(RepositoryBase[ContactIdentity]):
    model = ContactIdentity

    async def find(self, account_id: int, inbox_id: int, source_ids: Sequence[str]) -> list[ContactIdentity]:
        statement = scoped(select(ContactIdentity), ContactIdentity, account_id).where(
            ContactIdentity.inbox_id == inbox_id, self.one_of(ContactIdentity.source_id, source_ids)
        )
        return await self.all(statement)
