from __future__ import annotations

import builtins

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.canned_responses.repository import CannedResponseRepository
from mostrador.canned_responses.schemas import CannedResponseCreate, CannedResponseUpdate
from mostrador.exceptions import Conflict, NotFound
from mostrador.kit.db.savepoint import savepoint
from mostrador.models import CannedResponse


def _taken(code: str) -> Conflict:
    return Conflict(f"the short code {code!r} is already used", code="short_code_taken")


class CannedResponseService:
    async def list(self, session: AsyncSession, account_id: int) -> builtins.list[CannedResponse]:
        return await CannedResponseRepository.from_session(session).list_by_code(account_id)

    async def search(
        self, session: AsyncSession, account_id: int, query: str, *, limit: int = 10
    ) -> builtins.list[CannedResponse]:
        """For the composer's '/' picker: short codes starting with ``query`` or content containing it."""
        return await CannedResponseRepository.from_session(session).search(account_id, query, limit=limit)

    async def get(self, session: AsyncSession, account_id: int, response_id: int) -> CannedResponse:
        found = await CannedResponseRepository.from_session(session).get(account_id, response_id)
        if found is None:
            raise NotFound(f"canned response {response_id} not found", code="canned_response_not_found")
        return found

    async def create(self, session: AsyncSession, account_id: int, data: CannedResponseCreate) -> CannedResponse:
        repository = CannedResponseRepository.from_session(session)
        if await repository.get_by_code(account_id, data.short_code) is not None:
            raise _taken(data.short_code)
        response = CannedResponse(account_id=account_id, short_code=data.short_code, content=data.content)
        try:
            async with savepoint(session):
                await repository.add(response)
        except IntegrityError:
            raise _taken(data.short_code) from None
        return response

    async def update(
        self, session: AsyncSession, account_id: int, response_id: int, data: CannedResponseUpdate
    ) -> CannedResponse:
        response = await self.get(session, account_id, response_id)
        if data.short_code is not None and data.short_code != response.short_code:
            existing = await CannedResponseRepository.from_session(session).get_by_code(account_id, data.short_code)
            if existing is not None:
                raise _taken(data.short_code)
            response.short_code = data.short_code
        if data.content is not None:
            response.content = data.content
        try:
            async with savepoint(session):
                await session.flush()
        except IntegrityError:
            raise _taken(response.short_code) from None
        return response

    async def delete(self, session: AsyncSession, account_id: int, response_id: int) -> None:
        response = await self.get(session, account_id, response_id)
        await CannedResponseRepository.from_session(session).delete(response)


canned_response = CannedResponseService()
