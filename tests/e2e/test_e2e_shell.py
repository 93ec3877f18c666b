from __future__ import annotations

from pathlib import Path

import pytest
from e2ehelpers import LiveApp
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_login_shell_in_spanish_then_english(page: Page, live_app: LiveApp, results_dir: Path) -> None:
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))

    page.goto(f"{live_app.base_url}/")
    expect(page).to_have_url(f"{live_app.base_url}/login")
    page.fill("#email", live_app.email)
    page.fill("#password", live_app.password)
    page.click("button[type=submit]")

    expect(page).to_have_url(f"{live_app.base_url}/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("#nav")).to_contain_text("Sin asignar")
    expect(page.locator("#conversation")).to_contain_text("Selecciona una conversación")

    # the keyboard help overlay opens with ? and closes with Esc
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    expect(page.locator("#shortcuts")).to_contain_text("Conversación siguiente / anterior")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()

    # availability through HTMX (CSRF header from hx-headers)
    page.click('[data-availability="online"]')
    expect(page.locator('[data-availability="online"]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#toasts")).to_contain_text("Disponibilidad actualizada.")

    page.screenshot(path=str(results_dir / "e2e-shell-es.png"), full_page=True)

    page.click('.lang__option[value="en"]')
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#nav")).to_contain_text("Unassigned")
    expect(page.locator("#conversation")).to_contain_text("Select a conversation")
    page.screenshot(path=str(results_dir / "e2e-shell-en.png"), full_page=True)

    # no CSP violations or script errors along the way
    assert console_errors == []
