"""Full-text search over message text behind one function: SQLite FTS5, PostgreSQL tsvector (Spanish stemming).

The index objects (``messages_fts`` + triggers on SQLite; ``messages.search_vector`` + GIN on PostgreSQL) are
created by the migration ``message_search`` and are invisible to the ORM on purpose.
"""

from __future__ import annotations

import re

from sqlalchemy import Select, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from mostrador.kit.tenancy import scoped
from mostrador.models import Message

# What the migration creates outside the ORM; Alembic's comparisons must ignore it.
UNMANAGED_SCHEMA_OBJECTS = frozenset(
    {
        "messages_fts",
        "messages_fts_data",
        "messages_fts_idx",
        "messages_fts_docsize",
        "messages_fts_config",
        "search_vector",
        "ix_messages_search_vector",
    }
)
WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8


def fts5_query(raw: str) -> str | None:
    """User text → a safe FTS5 expression: every word quoted, prefix-matched, all required."""
    words = WORD.findall(raw)[:MAX_TERMS]
    if not words:
        return None
    return " ".join(f'"{word}"*' for word in words)


def _matching(session: AsyncSession, account_id: int, raw: str, column: InstrumentedAttribute[int]) -> Select[int]:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    statement: Select[int] = scoped(select(column), Message, account_id).where(Message.is_private.is_(False))
    if dialect == "postgresql":
        return statement.where(
            text("messages.search_vector @@ websearch_to_tsquery('spanish', :q)").bindparams(bindparam("q", raw))
        )
    query = fts5_query(raw) or '""'
    return statement.where(
        Message.id.in_(
            text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :q").bindparams(bindparam("q", query))
        )
    )


def matching_message_ids(session: AsyncSession, account_id: int, raw: str) -> Select[int]:
    return _matching(session, account_id, raw, Message.id)


def matching_conversation_ids(session: AsyncSession, account_id: int, raw: str) -> Select[int]:
    """The conversation ids of the matching rows themselves: no self-join back onto messages by id."""
    return _matching(session, account_id, raw, Message.conversation_id)
