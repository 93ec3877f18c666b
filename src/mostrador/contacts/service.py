from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.contacts.repository import ContactIdentityRepository, ContactRepository
from mostrador.contacts.schemas import ContactCreate, ContactUpdate
from mostrador.exceptions import NotFound, Unprocessable
from mostrador.kit.db.savepoint import savepoint
from mostrador.kit.phone import InvalidPhoneNumber, to_e164, wa_id_to_e164
from mostrador.models import Contact, ContactIdentity, Inbox
from mostrador.realtime import RealtimeEvent, publish


@dataclass(frozen=True)
class ChannelIdentity:
    """Who wrote to an inbox: ``wa_id`` may be empty once users hide their number behind a BSUID."""

    wa_id: str | None
    bsuid: str | None
    name: str = ""
    username: str | None = None

    @property
    def source_ids(self) -> list[str]:
        return [value for value in (self.wa_id, self.bsuid) if value]


def contact_version(contact: Contact) -> str:
    """Changes whenever the contact is saved with a change (its ``updated_at``, to the microsecond)."""
    return contact.updated_at.isoformat()


class ContactService:
    def normalize_phone(self, raw: str) -> str:
        try:
            return to_e164(raw)
        except InvalidPhoneNumber as error:
            raise Unprocessable(
                f"{error}; expected an international number such as +34612345678", code="invalid_phone"
            ) from None

    async def get(self, session: AsyncSession, account_id: int, contact_id: int) -> Contact:
        contact = await ContactRepository.from_session(session).get(account_id, contact_id)
        if contact is None:
            raise NotFound(f"contact {contact_id} not found", code="contact_not_found")
        return contact

    async def find_by_phone(self, session: AsyncSession, account_id: int, raw_phone: str) -> list[Contact]:
        repository = ContactRepository.from_session(session)
        try:
            phone = self.normalize_phone(raw_phone)
        except Unprocessable:
            # Contacts that wrote from an id that is not valid E.164 (legacy Mexican 521…) keep it as "+digits"
            # (wa_id_to_e164): the number the API shows must find them; anything else stays a 422.
            legacy = wa_id_to_e164(raw_phone)
            found = await repository.find_by_phone(account_id, legacy) if legacy else []
            if found:
                return found
            raise
        return await repository.find_by_phone(account_id, phone)

    async def create(self, session: AsyncSession, account_id: int, data: ContactCreate) -> Contact:
        phone = self.normalize_phone(data.phone)
        repository = ContactRepository.from_session(session)
        existing = await repository.find_by_phone(account_id, phone)
        if existing:
            return existing[0]
        contact = Contact(
            account_id=account_id, name=data.name, phone_e164=phone, wa_id=phone.lstrip("+"), language=data.language
        )
        return await repository.add(contact)

    async def update(self, session: AsyncSession, contact: Contact, data: ContactUpdate) -> Contact:
        """Only the fields present change; ``null`` (or an empty string) clears name, e-mail and language."""
        fields = data.model_fields_set
        before = self._editable(contact)
        if "name" in fields:
            contact.name = data.name or ""
        if "email" in fields:
            contact.email = data.email or None
        if "language" in fields:
            contact.language = data.language
        if data.custom_attributes is not None:
            merged = dict(contact.custom_attributes)
            for key, value in data.custom_attributes.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            contact.custom_attributes = merged
        await session.flush()
        if self._editable(contact) != before:
            self._changed(session, contact)
        return contact

    def _editable(self, contact: Contact) -> tuple[object, ...]:
        return (contact.name, contact.email, contact.language, dict(contact.custom_attributes))

    def _changed(self, session: AsyncSession, contact: Contact) -> None:
        """Agents with one of this contact's conversations open refresh its panel. ``version`` lets a screen
        that already shows this state (the agent who saved it) skip the refresh."""
        publish(
            session,
            RealtimeEvent(
                contact.account_id,
                "contact.updated",
                {"contact_id": contact.id, "version": contact_version(contact)},
            ),
        )

    async def resolve_identity(self, session: AsyncSession, inbox: Inbox, identity: ChannelIdentity) -> Contact:
        """The contact behind a channel identity, created on first contact; safe under concurrent calls."""
        if not identity.source_ids:
            raise Unprocessable("sender has neither a phone number nor a user id", code="no_sender")
        for _attempt in range(3):
            try:
                async with savepoint(session):
                    return await self._resolve_once(session, inbox, identity)
            except IntegrityError:
                continue  # another job created the same identity first; read it back
        return await self._resolve_once(session, inbox, identity)

    async def resolve_identities(
        self, session: AsyncSession, inbox: Inbox, identities: Sequence[ChannelIdentity]
    ) -> dict[ChannelIdentity, Contact]:
        """``resolve_identity`` for many senders: two queries when every one is known and unchanged.

        The others (first contact, a new user id, a changed name or number) take the one-by-one path, in one
        order (their source ids sorted) so that two batches creating the same contacts cannot deadlock.
        """
        wanted = {identity for identity in identities if identity.source_ids}
        if len(wanted) != len(set(identities)):
            raise Unprocessable("sender has neither a phone number nor a user id", code="no_sender")
        known = await ContactIdentityRepository.from_session(session).find(
            inbox.account_id, inbox.id, sorted({source for identity in wanted for source in identity.source_ids})
        )
        contact_of = {row.source_id: row.contact_id for row in known}
        loaded = await ContactRepository.from_session(session).by_ids(
            inbox.account_id, sorted(set(contact_of.values()))
        )
        by_id = {contact.id: contact for contact in loaded}
        resolved: dict[ChannelIdentity, Contact] = {}
        slow: list[ChannelIdentity] = []
        for identity in wanted:
            ids = {contact_of.get(source) for source in identity.source_ids}
            only = ids.pop() if len(ids) == 1 else None
            found = by_id.get(only) if only is not None else None
            if found is not None and _unchanged(found, identity):
                resolved[identity] = found
            else:
                slow.append(identity)
        unseen = [identity for identity in slow if not any(source in contact_of for source in identity.source_ids)]
        if unseen:
            resolved.update(await self._create_many(session, inbox, unseen))
        for identity in sorted((i for i in slow if i not in resolved), key=lambda identity: identity.source_ids):
            resolved[identity] = await self.resolve_identity(session, inbox, identity)
        return resolved

    async def _create_many(
        self, session: AsyncSession, inbox: Inbox, identities: Sequence[ChannelIdentity]
    ) -> dict[ChannelIdentity, Contact]:
        """First contact of senders no contact of the account has: one insert of contacts, one of identities.

        Empty when a concurrent job created one of them first (the identity insert conflicts and the savepoint
        takes ours back); the caller then resolves them one by one.
        """
        wa_ids = [identity.wa_id for identity in identities if identity.wa_id]
        bsuids = [identity.bsuid for identity in identities if identity.bsuid]
        existing = await ContactRepository.from_session(session).matching_any_whatsapp_ids(
            inbox.account_id, wa_ids, bsuids
        )
        taken = {value for contact in existing for value in (contact.wa_id, contact.bsuid) if value}
        fresh = sorted(
            (identity for identity in identities if not any(source in taken for source in identity.source_ids)),
            key=lambda identity: identity.source_ids,
        )
        if len({source for identity in fresh for source in identity.source_ids}) != sum(
            len(identity.source_ids) for identity in fresh
        ):
            return {}  # two senders share an id (a number and its user id in two shapes): one by one
        if not fresh:
            return {}
        rows = [
            {
                "account_id": inbox.account_id,
                "name": identity.name,
                "wa_id": identity.wa_id,
                "phone_e164": wa_id_to_e164(identity.wa_id) if identity.wa_id else None,
                "bsuid": identity.bsuid,
                "username": identity.username,
            }
            for identity in fresh
        ]
        try:
            async with savepoint(session):
                # Multi-row INSERT … RETURNING statements, not the unit of work's flush: on SQLite that flush
                # inserts one row per statement when it needs the new ids back.
                inserted = (await session.scalars(insert(Contact).returning(Contact), rows)).all()
                by_source = {
                    value: contact for contact in inserted for value in (contact.wa_id, contact.bsuid) if value
                }
                created = {identity: by_source[identity.source_ids[0]] for identity in fresh}
                await session.execute(
                    insert(ContactIdentity),
                    [
                        {
                            "account_id": inbox.account_id,
                            "inbox_id": inbox.id,
                            "contact_id": contact.id,
                            "source_id": source_id,
                        }
                        for identity, contact in created.items()
                        for source_id in identity.source_ids
                    ],
                )
        except IntegrityError:
            return {}
        return created

    async def change_number(self, session: AsyncSession, inbox: Inbox, contact: Contact, new_wa_id: str) -> bool:
        """The customer moved to a new number (WhatsApp's ``user_changed_number``): they keep their contact and
        history, and messages from either number find them. False, and nothing changes, when the new number is
        already someone else's in this inbox (they wrote from it first): merging two contacts is an agent's call.
        """
        known = await ContactIdentityRepository.from_session(session).find(contact.account_id, inbox.id, [new_wa_id])
        if any(row.contact_id != contact.id for row in known):
            return False
        contact.wa_id = new_wa_id
        contact.phone_e164 = wa_id_to_e164(new_wa_id)
        if not known:
            session.add(
                ContactIdentity(
                    account_id=contact.account_id, inbox_id=inbox.id, contact_id=contact.id, source_id=new_wa_id
                )
            )
        await session.flush()
        self._changed(session, contact)
        return True

    async def _resolve_once(self, session: AsyncSession, inbox: Inbox, identity: ChannelIdentity) -> Contact:
        contacts = ContactRepository.from_session(session)
        identities = ContactIdentityRepository.from_session(session)
        known = await identities.find(inbox.account_id, inbox.id, identity.source_ids)
        contact: Contact | None = None
        if known:
            contact = await contacts.get(inbox.account_id, known[0].contact_id)
        if contact is None:
            contact = await contacts.find_by_whatsapp_ids(inbox.account_id, identity.wa_id, identity.bsuid)
        if contact is None:
            contact = Contact(account_id=inbox.account_id, name=identity.name)
            session.add(contact)
        vouched = bool(identity.bsuid) and contact.bsuid == identity.bsuid  # the stable id says it is them
        if identity.wa_id and contact.wa_id != identity.wa_id and (not contact.wa_id or vouched):
            # A new number under the same BSUID is theirs now; a message from a number they left (found by its
            # old identity, a late delivery or a retry) does not take them back to it.
            contact.wa_id = identity.wa_id
            contact.phone_e164 = wa_id_to_e164(identity.wa_id)
        if identity.bsuid and not contact.bsuid:
            contact.bsuid = identity.bsuid
        if identity.username:
            contact.username = identity.username
        if identity.name and not contact.name:
            contact.name = identity.name
        await session.flush()
        present = {row.source_id for row in known}
        for source_id in identity.source_ids:
            if source_id not in present:
                session.add(
                    ContactIdentity(
                        account_id=inbox.account_id, inbox_id=inbox.id, contact_id=contact.id, source_id=source_id
                    )
                )
        await session.flush()
        return contact


def _unchanged(contact: Contact, identity: ChannelIdentity) -> bool:
    """Whether ``_resolve_once`` would leave this contact as it is (so the fast path may skip it)."""
    return (
        (not identity.wa_id or contact.wa_id == identity.wa_id)
        and (not identity.bsuid or bool(contact.bsuid))
        and (not identity.username or contact.username == identity.username)
        and (not identity.name or bool(contact.name))
    )


contact = ContactService()
