from __future__ import annotations

import builtins

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.exceptions import Conflict, NotFound
from mostrador.kit.db.savepoint import savepoint
from mostrador.labels.repository import LabelRepository
from mostrador.labels.schemas import LabelCreate, LabelUpdate
from mostrador.models import Label


class LabelService:
    async def list(self, session: AsyncSession, account_id: int) -> builtins.list[Label]:
        return await LabelRepository.from_session(session).list_by_name(account_id)

    async def get(self, session: AsyncSession, account_id: int, label_id: int) -> Label:
        label = await LabelRepository.from_session(session).get(account_id, label_id)
        if label is None:
            raise NotFound(f"label {label_id} not found", code="label_not_found")
        return label

    async def _check_name_free(self, session: AsyncSession, account_id: int, name: str, *, exclude: int | None) -> None:
        existing = await LabelRepository.from_session(session).get_by_name(account_id, name)
        if existing is not None and existing.id != exclude:
            raise Conflict(f"a label named {name!r} already exists", code="label_exists")

    async def create(self, session: AsyncSession, account_id: int, data: LabelCreate) -> Label:
        await self._check_name_free(session, account_id, data.name, exclude=None)
        label = Label(account_id=account_id, name=data.name, color=data.color, description=data.description)
        try:
            async with savepoint(session):
                await LabelRepository.from_session(session).add(label)
        except IntegrityError:
            raise Conflict(f"a label named {data.name!r} already exists", code="label_exists") from None
        return label

    async def update(self, session: AsyncSession, account_id: int, label_id: int, data: LabelUpdate) -> Label:
        label = await self.get(session, account_id, label_id)
        if data.name is not None:
            await self._check_name_free(session, account_id, data.name, exclude=label.id)
            label.name = data.name
        if data.color is not None:
            label.color = data.color
        if data.description is not None:
            label.description = data.description
        try:
            async with savepoint(session):
                await session.flush()
        except IntegrityError:
            raise Conflict(f"a label named {data.name!r} already exists", code="label_exists") from None
        return label

    async def delete(self, session: AsyncSession, account_id: int, label_id: int) -> None:
        label = await self.get(session, account_id, label_id)
        await LabelRepository.from_session(session).delete(label)


label = LabelService()
