"""Opaque keyset cursors: no OFFSET, so page 1,000 costs what page 1 does."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from mostrador.exceptions import BadRequest
from mostrador.kit.ids import MAX_ID


def encode_cursor(at: datetime, id: int) -> str:
    raw = json.dumps([at.isoformat(), id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment, row_id = datetime.fromisoformat(at), int(id)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise BadRequest("invalid cursor; use the next_cursor of a previous page", code="invalid_cursor") from None
    # Only encode_cursor's own values pass: a hand-made one must not reach the database as a naive datetime or an
    # id no column can hold.
    if moment.tzinfo is None or not 0 < row_id <= MAX_ID:
        raise BadRequest("invalid cursor; use the next_cursor of a previous page", code="invalid_cursor")
    return moment, row_id
