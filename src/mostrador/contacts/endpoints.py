from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mostrador.api_errors import ERROR_RESPONSES
from mostrador.auth.dependencies import ApiUser, SessionDep
from mostrador.contacts.schemas import ContactCreate, ContactRead, ContactUpdate
from mostrador.contacts.service import contact as contact_service
from mostrador.kit.ids import Id
from mostrador.models import Contact

router = APIRouter(prefix="/contacts", tags=["contacts"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[ContactRead])
async def find_contacts(
    user: ApiUser,
    session: SessionDep,
    phone: Annotated[str, Query(min_length=3, max_length=40, examples=["+5215512345678"])],
) -> list[Contact]:
    """Contacts with this phone number (any format; it is normalised to E.164)."""
    return await contact_service.find_by_phone(session, user.account_id, phone)


@router.post("", response_model=ContactRead, status_code=201)
async def create_contact(data: ContactCreate, user: ApiUser, session: SessionDep) -> Contact:
    """Create a contact, or return the existing one with the same phone number."""
    return await contact_service.create(session, user.account_id, data)


@router.get("/{contact_id}", response_model=ContactRead)
async def get_contact(contact_id: Id, user: ApiUser, session: SessionDep) -> Contact:
    return await contact_service.get(session, user.account_id, contact_id)


@router.patch("/{contact_id}", response_model=ContactRead)
async def update_contact(contact_id: Id, data: ContactUpdate, user: ApiUser, session: SessionDep) -> Contact:
    contact = await contact_service.get(session, user.account_id, contact_id)
    return await contact_service.update(session, contact, data)
