"""The only place queries filter by tenant. Repositories call :func:`scoped`; a test forbids inline filters."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T", bound=tuple[Any, ...])


class TenantModel(Protocol):
    account_id: InstrumentedAttribute[int]


def scoped(statement: Select[T], model: type[TenantModel], account_id: int) -> Select[T]:
    return statement.where(model.account_id == account_id)
