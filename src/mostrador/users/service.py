from __future__ import annotations

import builtins

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password
from mostrador.conversations.queue import offer_capacity
from mostrador.exceptions import BadRequest, Conflict, NotFound
from mostrador.kit.crypto import hash_token, new_token
from mostrador.kit.db.savepoint import savepoint
from mostrador.kit.time import utc_now
from mostrador.models import Account, ApiToken, Availability, Role, User
from mostrador.users.repository import ApiTokenRepository, UserRepository
from mostrador.users.schemas import UserCreate, UserUpdate


class UserService:
    async def create(self, session: AsyncSession, account: Account, data: UserCreate) -> User:
        repository = UserRepository.from_session(session)
        if await repository.get_by_email(data.email) is not None:
            raise Conflict(f"a user with e-mail {data.email} already exists", code="email_taken")
        user = User(
            account_id=account.id,
            email=data.email.lower(),
            name=data.name,
            password_hash=hash_password(data.password),
            role=data.role,
        )
        try:
            async with savepoint(session):
                await repository.add(user)
        except IntegrityError:
            raise Conflict(f"a user with e-mail {data.email} already exists", code="email_taken") from None
        return user

    async def authenticate(self, session: AsyncSession, email: str, password: str) -> User | None:
        user = await UserRepository.from_session(session).get_by_email(email)
        if not verify_password(user.password_hash if user else None, password) or user is None:
            return None
        if not user.is_active:
            return None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return user

    async def get_by_email(self, session: AsyncSession, email: str) -> User:
        user = await UserRepository.from_session(session).get_by_email(email)
        if user is None:
            raise NotFound(f"no user with e-mail {email}")
        return user

    async def create_token(self, session: AsyncSession, user: User, name: str) -> tuple[ApiToken, str]:
        if not name.strip():
            raise BadRequest("a token needs a name")
        raw = new_token()
        token = ApiToken(account_id=user.account_id, user_id=user.id, name=name.strip(), token_hash=hash_token(raw))
        await ApiTokenRepository.from_session(session).add(token)
        return token, raw

    async def resolve_token(self, session: AsyncSession, raw: str) -> User | None:
        token = await ApiTokenRepository.from_session(session).get_by_hash(hash_token(raw))
        if token is None:
            return None
        user = await UserRepository.from_session(session).get_active(token.user_id)
        if user is None:
            return None
        now = utc_now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            token.last_used_at = now
        return user

    # --- agent management (settings pages) -------------------------------------------------------------------

    async def list(self, session: AsyncSession, account_id: int) -> builtins.list[User]:
        return await UserRepository.from_session(session).list_by_name(account_id)

    async def get(self, session: AsyncSession, account_id: int, user_id: int) -> User:
        found = await UserRepository.from_session(session).get(account_id, user_id)
        if found is None:
            raise NotFound(f"user {user_id} not found", code="user_not_found")
        return found

    async def _check_keeps_an_admin(self, session: AsyncSession, target: User) -> None:
        if not (target.role is Role.admin and target.is_active):
            return
        if await UserRepository.from_session(session).count_active_admins(target.account_id) <= 1:
            raise Conflict("the account needs at least one active admin", code="last_admin")

    async def update(self, session: AsyncSession, account_id: int, user_id: int, data: UserUpdate) -> User:
        target = await self.get(session, account_id, user_id)
        if data.role is not None and data.role is not target.role:
            if target.role is Role.admin:
                await self._check_keeps_an_admin(session, target)
            target.role = data.role
        if data.name is not None:
            target.name = data.name
        if data.max_open_conversations is not None:
            if data.max_open_conversations > target.max_open_conversations:
                offer_capacity(session, target.account_id)
            target.max_open_conversations = data.max_open_conversations
        await session.flush()
        return target

    async def deactivate(self, session: AsyncSession, actor: User, user_id: int) -> User:
        """Signs the user out everywhere (session_version bump); their API tokens stop resolving too."""
        target = await self.get(session, actor.account_id, user_id)
        if target.id == actor.id:
            raise BadRequest("you cannot deactivate yourself", code="cannot_deactivate_self")
        if not target.is_active:
            return target
        await self._check_keeps_an_admin(session, target)
        target.is_active = False
        target.availability = Availability.offline
        target.session_version += 1
        await session.flush()
        return target

    async def activate(self, session: AsyncSession, account_id: int, user_id: int) -> User:
        target = await self.get(session, account_id, user_id)
        target.is_active = True
        await session.flush()
        return target

    async def set_availability(self, session: AsyncSession, target: User, availability: Availability) -> User:
        if availability is Availability.online and target.availability is not Availability.online:
            offer_capacity(session, target.account_id)  # waiting conversations come to them
        target.availability = availability
        target.last_seen_at = utc_now()
        await session.flush()
        return target

    async def set_locale(self, session: AsyncSession, target: User, locale: str | None) -> User:
        target.locale = locale
        await session.flush()
        return target

    async def change_password(self, session: AsyncSession, target: User, password: str) -> User:
        """Signs every other session out (session_version bump)."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise BadRequest(f"passwords need at least {MIN_PASSWORD_LENGTH} characters", code="password_too_short")
        target.password_hash = hash_password(password)
        target.session_version += 1
        await session.flush()
        return target


def can_administer(user: User) -> bool:
    return user.role is Role.admin


def can_supervise(user: User) -> bool:
    return user.role in (Role.admin, Role.supervisor)


user = UserService()
