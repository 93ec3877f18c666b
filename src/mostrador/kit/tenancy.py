"""The only place queries filter by tenant. Repositories call :func:`scoped`; a test forbids inline filters."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from sqlalchemy import Delete, Select

S = TypeVar("S", bound="Select[*tuple[Any, ...]] | Delete")


def scoped(statement: S, model: type[Any], account_id: int) -> S:
    column = getattr(model, "account_id", None)
    if column is None:
        raise TypeError(f"{model.__name__} has no account_id: it is not a tenant table")
    return cast(S, statement.where(column == account_id))
