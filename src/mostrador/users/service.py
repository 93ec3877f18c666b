from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.auth.passwords import hash_password, needs_rehash, verify_password
from mostrador.exceptions import BadRequest, Conflict, NotFound
from mostrador.kit.crypto import hash_token, new_token
from mostrador.kit.time import utc_now
from mostrador.models import Account, ApiToken, Role, User
from mostrador.users.repository import ApiTokenRepository, UserRepository
from mostrador.users.schemas import UserCreate


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
            async with session.begin_nested():
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


def can_administer(user: User) -> bool:
    return user.role is Role.admin


def can_supervise(user: User) -> bool:
    return user.role in (Role.admin, Role.supervisor)


user = UserService()
