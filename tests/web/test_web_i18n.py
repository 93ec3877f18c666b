from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from webhelpers import signed_in_csrf

from factories import World
from mostrador.web import i18n

LOCALE_DIR = Path(i18n.__file__).resolve().parent.parent / "locale"
REPO = Path(__file__).resolve().parents[2]


def extracted_ids() -> set[str]:
    method_map = [("src/mostrador/web/**.py", "python"), ("src/mostrador/web/templates/**.html", "jinja2")]
    options = {"src/mostrador/web/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    ids: set[str] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(REPO), method_map, options, keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


class TestCatalogs:
    def test_every_ui_string_is_translated_in_spanish_and_portuguese(self) -> None:
        ids = extracted_ids()
        assert len(ids) > 100
        for language in ("es", "pt"):
            with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
                catalog = read_po(handle, locale=language)
            translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
            assert ids - translated == set(), f"{language}: untranslated"

    def test_translations_keep_their_placeholders(self) -> None:
        import re

        for language in ("es", "pt"):
            with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
                catalog = read_po(handle, locale=language)
            for message in catalog:
                if message.id and message.string:
                    assert set(re.findall(r"%\(\w+\)s", str(message.id))) == set(
                        re.findall(r"%\(\w+\)s", str(message.string))
                    ), message.id

    def test_catalogs_compile_in_memory(self) -> None:
        assert i18n.get_translations("es").gettext("Sign in") == "Iniciar sesión"
        assert i18n.get_translations("pt").gettext("Sign in") == "Iniciar sessão"
        assert i18n.get_translations("en").gettext("Sign in") == "Sign in"


class TestNegotiation:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("pt-BR,pt;q=0.9,en;q=0.8", "pt"),
            ("de-DE,en;q=0.5", "en"),
            ("fr", None),
            ("en;q=0.2, es;q=0.9", "es"),
            ("", None),
            ("es;q=abc", None),
        ],
    )
    def test_accept_language(self, header: str, expected: str | None) -> None:
        result = i18n.negotiate_accept_language(header)
        assert result == expected

    def test_resolve_falls_back_to_spanish(self) -> None:
        assert i18n.resolve_locale(None, "xx", "") == "es"
        assert i18n.resolve_locale(None, "pt_BR") == "pt"


class TestRelativeTimes:
    NOW = datetime(2025, 3, 12, 17, 45, tzinfo=UTC)  # 18:45 in Madrid

    @pytest.mark.parametrize(
        ("locale", "delta", "expected"),
        [
            ("es", timedelta(seconds=20), "ahora"),
            ("es", timedelta(minutes=3), "hace 3 min"),
            ("en", timedelta(minutes=3), "3 min. ago"),
            ("pt", timedelta(minutes=3), "há 3 min."),
            ("es", timedelta(hours=2), "16:45"),
            ("es", timedelta(hours=24, minutes=5), "ayer 18:40"),
            ("en", timedelta(hours=24, minutes=5), "yesterday 18:40"),
            ("pt", timedelta(hours=24, minutes=5), "ontem 18:40"),
            ("es", timedelta(days=40), "31 ene"),
            ("es", timedelta(days=400), "6 feb 2024"),
        ],
    )
    def test_format_relative_in_the_account_time_zone(self, locale: str, delta: timedelta, expected: str) -> None:
        with i18n.use_locale(locale, "Europe/Madrid"):
            assert i18n.format_relative(self.NOW - delta, now=self.NOW) == expected

    def test_weekday_within_a_week(self) -> None:
        with i18n.use_locale("es", "Europe/Madrid"):
            assert i18n.format_relative(self.NOW - timedelta(days=3), now=self.NOW) == "dom 18:45"

    def test_time_zone_moves_the_day(self) -> None:
        # 23:30 UTC on the 11th is already the 12th in Madrid: "today", shown as a clock time.
        value = datetime(2025, 3, 11, 23, 30, tzinfo=UTC)
        with i18n.use_locale("es", "Europe/Madrid"):
            assert i18n.format_relative(value, now=self.NOW) == "00:30"
        with i18n.use_locale("es", "America/Mexico_City"):
            assert i18n.format_relative(value, now=self.NOW) == "ayer 17:30"

    def test_naive_values_are_utc_and_unknown_zones_fall_back(self) -> None:
        with i18n.use_locale("es", "Not/AZone"):
            assert (
                i18n.format_relative(self.NOW.replace(tzinfo=None) - timedelta(minutes=5), now=self.NOW) == "hace 5 min"
            )


class TestLanguageSwitch:
    async def test_spanish_by_default_then_english_then_portuguese(self, admin_client: httpx.AsyncClient) -> None:
        page = await admin_client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
        assert '<html lang="es">' in page.text  # the account's language wins over the browser's
        assert "Sin asignar" in page.text and "Ajustes" in page.text
        for code, unassigned, settings in (("en", "Unassigned", "Settings"), ("pt", "Sem atribuição", "Definições")):
            token = await signed_in_csrf(admin_client)
            response = await admin_client.post(
                "/settings/language",
                data={"locale": code, "csrf_token": token},
                headers={"Referer": "http://mostrador.test/?view=all"},
            )
            assert response.status_code == 303
            assert response.headers["location"] == "/?view=all"
            page = await admin_client.get("/")
            assert f'<html lang="{code}">' in page.text
            assert unassigned in page.text and settings in page.text
            assert "Sin asignar" not in page.text

    async def test_htmx_switch_refreshes(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client)
        response = await admin_client.post(
            "/settings/language", data={"locale": "en"}, headers={"HX-Request": "true", "X-CSRF-Token": token}
        )
        assert response.headers["hx-refresh"] == "true"

    async def test_unknown_language_is_refused(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client)
        response = await admin_client.post("/settings/language", data={"locale": "klingon", "csrf_token": token})
        assert response.status_code == 422
        assert '<html lang="es">' in (await admin_client.get("/")).text

    async def test_login_page_follows_the_browser(self, client: httpx.AsyncClient, world: World) -> None:
        assert "Sign in" in (await client.get("/login", headers={"Accept-Language": "en-GB"})).text
        assert "Iniciar sessão" in (await client.get("/login", headers={"Accept-Language": "pt-PT"})).text
        assert "Iniciar sesión" in (await client.get("/login", headers={"Accept-Language": "fr"})).text
