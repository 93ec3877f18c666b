"""Opaque keyset cursors: no OFFSET, so page 1,000 costs what page 1 does."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from mostrador.exceptions import BadRequest


def encode_cursor(at: datetime, id: int) -> str:
    raw = json.dumps([at.isoformat(), id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(at), int(id)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise BadRequest("invalid cursor; use the next_cursor of a previous page", code="invalid_cursor") from None
