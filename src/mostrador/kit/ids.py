"""Row ids as they arrive from outside (paths, query strings, JSON bodies).

Every table's id is a signed 64-bit integer (BIGINT on PostgreSQL, INTEGER on SQLite). Python's ``int`` has no
bound, so without this type a path like ``/conversations/99999999999999999999`` reached the driver and failed
there with an overflow (a 500). Bounded here, it is a validation error: a 422 in the API, a 404 page in the UI.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

MAX_ID: Final = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
