"""Translations and locale-aware formatting for the UI.

Catalogs live as ``.po`` files under ``mostrador/locale/<lang>/LC_MESSAGES/messages.po``. They are compiled in
memory on first use (``read_po`` → ``write_mo`` → ``Translations``), so no build step is needed and a stale
``.mo`` can never shadow an edited ``.po``. The language of the current render is held in a context variable,
so templates and Python code share one ``gettext``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from mostrador.kit.time import as_utc, utc_now

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SUPPORTED_LOCALES: tuple[str, ...] = ("es", "en", "pt")
DEFAULT_LOCALE = "es"
DEFAULT_TIMEZONE = "Europe/Madrid"
# Shown in the language switcher in their own language, never translated.
LANGUAGE_NAMES: dict[str, str] = {"es": "Español", "en": "English", "pt": "Português"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (translate later with ``gettext``)."""
    return message


@lru_cache(maxsize=len(SUPPORTED_LOCALES) + 1)
def get_translations(locale: str) -> NullTranslations:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


def normalize_locale(value: str | None) -> str | None:
    """'pt-BR' → 'pt', 'EN' → 'en'; None when unsupported."""
    if not value:
        return None
    language = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return language if language in SUPPORTED_LOCALES else None


def negotiate_accept_language(header: str | None) -> str | None:
    """The best supported language in an Accept-Language header, honouring q-values."""
    if not header:
        return None
    candidates: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        language = normalize_locale(tag)
        if language and quality > 0:
            candidates.append((-quality, index, language))
    return min(candidates)[2] if candidates else None


def resolve_locale(*choices: str | None) -> str:
    """The first supported choice, else Spanish."""
    for choice in choices:
        language = normalize_locale(choice)
        if language:
            return language
    return DEFAULT_LOCALE


def resolve_timezone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


@dataclass(frozen=True)
class LocaleContext:
    locale: str
    timezone: ZoneInfo

    @property
    def translations(self) -> NullTranslations:
        return get_translations(self.locale)


_DEFAULT_CONTEXT = LocaleContext(DEFAULT_LOCALE, resolve_timezone(DEFAULT_TIMEZONE))
_current: ContextVar[LocaleContext | None] = ContextVar("mostrador_locale", default=None)


def current() -> LocaleContext:
    return _current.get() or _DEFAULT_CONTEXT


def set_locale(locale: str, timezone: str | None = None) -> None:
    """Set the language for the rest of this request (each request runs in its own context)."""
    _current.set(LocaleContext(resolve_locale(locale), resolve_timezone(timezone)))


@contextmanager
def use_locale(locale: str, timezone: str | None = None) -> Iterator[LocaleContext]:
    token = _current.set(LocaleContext(resolve_locale(locale), resolve_timezone(timezone)))
    try:
        yield current()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return current().translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return current().translations.ngettext(singular, plural, n)


_ = gettext


# ---------------------------------------------------------------------------------------------------------------
# dates and times, always in the account's time zone


def _local(value: datetime) -> datetime:
    return as_utc(value).astimezone(current().timezone)


def format_relative(value: datetime | None, *, now: datetime | None = None) -> str:
    """'ahora', 'hace 3 min', '18:40' (today), 'ayer 18:40', 'lun 18:40' (this week), '12 mar', '12 mar 2023'."""
    if value is None:
        return ""
    ctx = current()
    now_local = _local(now or utc_now())
    local = _local(value)
    delta = now_local - local
    if timedelta(0) <= delta < timedelta(minutes=1):
        return gettext("now")
    if timedelta(0) <= delta < timedelta(hours=1):
        return str(format_timedelta(-delta, locale=ctx.locale, add_direction=True, format="short", threshold=1))
    clock = format_time(local, "HH:mm", locale=ctx.locale)
    days = (now_local.date() - local.date()).days
    if days == 0:
        return str(clock)
    if days == 1:
        return gettext("yesterday %(time)s") % {"time": clock}
    if 1 < days < 7:
        weekday = format_date(local, "EEE", locale=ctx.locale).rstrip(".")
        return f"{weekday} {clock}"
    pattern = "d MMM" if local.year == now_local.year else "d MMM y"
    return str(format_date(local, pattern, locale=ctx.locale))


def format_full(value: datetime | None) -> str:
    """Full date and time for tooltips: '12 mar 2025, 18:40:05'."""
    if value is None:
        return ""
    return str(format_datetime(_local(value), "medium", locale=current().locale))


def format_clock(value: datetime | None) -> str:
    if value is None:
        return ""
    return str(format_time(_local(value), "HH:mm", locale=current().locale))


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code) or Locale.parse(code).get_display_name(code) or code
