from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _storable_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is in year 10000 in UTC
        raise ValueError("date out of range") from None


# A moment from outside (API body, form): it must say its time zone and fit in UTC; it arrives in UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_storable_utc)]
