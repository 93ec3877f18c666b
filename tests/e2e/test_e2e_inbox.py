"""The agent inbox in a real browser against a live server with the Cloud API simulator mounted at /sim.

Customers write through the simulator's control API; the simulator signs webhooks to the live server and the
app's Graph calls go back to /sim over HTTP, as with Meta.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2ehelpers import E2E_EMAIL, E2E_PASSWORD, e2e_settings, free_port, in_thread, live_server, seed_admin
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import select, update

from mostrador.app import create_app
from mostrador.config import Settings
from mostrador.inboxes.schemas import WhatsAppInboxCreate
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.kit.time import utc_now
from mostrador.models import Account, Contact, Conversation, MessageTemplate, Role
from mostrador.runtime import build_runtime
from mostrador.simulator import SimNumber, SimulatorConfig, create_simulator_app
from mostrador.simulator.media import tiny_png
from mostrador.users.schemas import UserCreate
from mostrador.users.service import user as user_service

pytestmark = pytest.mark.e2e

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
TOKEN = "e2e-graph-token"
AGENT_EMAIL = "luis@casaolivo.example"
AGENT_NAME = "Luis Agente"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img" / "inbox.png"
TEMPLATE_BODY = "Hola {{1}}, tu pedido {{2}} está listo para recoger."


@dataclass
class Desk:
    base_url: str
    settings: Settings

    @property
    def sim(self) -> str:
        return f"{self.base_url}/sim"

    def customer_says(self, wa_id: str, text: str, name: str = "Ana Martínez") -> str:
        response = httpx.post(
            f"{self.sim}/_sim/inbound",
            json={"phone_number_id": PHONE_NUMBER_ID, "from": wa_id, "name": name, "type": "text", "text": text},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["wamid"])

    def sent_to(self, wa_id: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.sim}/_sim/messages", params={"to": wa_id}, timeout=10)
        assert response.status_code == 200
        return list(response.json())

    def run(self, work: Callable[[Any], Any]) -> Any:
        """Run ``work(session)`` in a unit of work on a throw-away runtime (its own thread and loop)."""

        async def go() -> Any:
            runtime = build_runtime(self.settings)
            try:
                async with runtime.unit_of_work() as session:
                    return await work(session)
            finally:
                await runtime.aclose()

        return in_thread(lambda: asyncio.run(go()))


def _seed(settings: Settings, base_url: str) -> None:
    async def seed() -> None:
        runtime = build_runtime(settings)
        try:
            async with runtime.unit_of_work() as session:
                account = (await session.execute(select(Account))).scalar_one()
                await user_service.create(
                    session,
                    account,
                    UserCreate(email=AGENT_EMAIL, name=AGENT_NAME, password=E2E_PASSWORD, role=Role.agent),
                )
                inbox = await inbox_service.create_whatsapp(
                    session,
                    account,
                    WhatsAppInboxCreate(
                        name="WhatsApp tienda",
                        phone_number_id=PHONE_NUMBER_ID,
                        waba_id=WABA_ID,
                        access_token=TOKEN,
                        display_phone_number="+34 910 000 000",
                        graph_url=f"{base_url}/sim",
                    ),
                    secret_key=settings.resolved_secret_key,
                )
                session.add(
                    MessageTemplate(
                        account_id=account.id,
                        inbox_id=inbox.id,
                        name="pedido_listo",
                        language="es",
                        category="UTILITY",
                        status="APPROVED",
                        components=[{"type": "BODY", "text": TEMPLATE_BODY}],
                    )
                )
        finally:
            await runtime.aclose()

    asyncio.run(seed())


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    tmp = tmp_path_factory.mktemp("e2e-inbox")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings: Settings = in_thread(lambda: e2e_settings(tmp))
    in_thread(lambda: seed_admin(settings))
    in_thread(lambda: _seed(settings, base_url))
    config = SimulatorConfig(
        callback_url=f"{base_url}/webhooks/whatsapp",
        app_secret=settings.wa_app_secret,
        access_token=TOKEN,
        numbers=[SimNumber(phone_number_id=PHONE_NUMBER_ID, display_phone_number="34910000000", waba_id=WABA_ID)],
        public_base_url=f"{base_url}/sim",
        status_delays={"sent": 0.05, "delivered": 0.3, "read": 0.8},
        read_probability=1.0,
        template_review_delay_s=0,
    )

    def build() -> FastAPI:
        app = create_app(settings)
        app.mount("/sim", create_simulator_app(config))
        return app

    with live_server(build, port=port) as url:
        created = httpx.post(
            f"{url}/sim/v23.0/{WABA_ID}/message_templates",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={
                "name": "pedido_listo",
                "language": "es",
                "category": "UTILITY",
                "components": [{"type": "BODY", "text": TEMPLATE_BODY, "example": {"body_text": [["Ana", "A-1"]]}}],
            },
            timeout=10,
        )
        assert created.status_code == 200, created.text
        yield Desk(base_url=url, settings=settings)


def sign_in(page: Page, base_url: str, email: str = E2E_EMAIL) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#email", email)
    page.fill("#password", E2E_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base_url}/")


def watch_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def open_new_customer(page: Page, desk: Desk, wa_id: str, text: str, name: str) -> None:
    """Sign in on the All view, let a customer write, and open their conversation from the live list."""
    sign_in(page, desk.base_url)
    page.goto(f"{desk.base_url}/?view=all")
    desk.customer_says(wa_id, text, name=name)
    row = page.locator("#conversation-rows [data-nav-item]", has_text=name)
    expect(row).to_be_visible(timeout=10_000)
    row.locator("a").click()


def wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_live_list_conversation_reply_and_read_ticks(page: Page, desk: Desk, results_dir: Path) -> None:
    errors = watch_errors(page)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, desk.base_url)
    page.goto(f"{desk.base_url}/?view=all")
    expect(page.locator("#conversation-list")).to_be_visible()

    # a customer writes: the row appears without a reload
    desk.customer_says("5215512340001", "Hola, ¿tienen la camisa de *lino* en talla M?")
    row = page.locator("#conversation-rows [data-nav-item]", has_text="Ana Martínez")
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text("camisa de")

    row.locator("a").click()
    expect(page).to_have_url(re.compile(r"/conversations/\d+"))
    expect(page.locator("#messages")).to_contain_text("camisa de lino")
    expect(page.locator("#messages strong", has_text="lino")).to_be_visible()
    expect(page.locator("#conversation-header")).to_contain_text("Ventana: quedan 23 h")

    # the next message lands in the open conversation without a reload
    desk.customer_says("5215512340001", "Es para un regalo 🎁")
    expect(page.locator("#messages")).to_contain_text("Es para un regalo 🎁", timeout=10_000)

    # the agent replies with Ctrl+Enter; the simulator receives it; the ticks move to read
    composer = page.locator("[data-composer]")
    composer.fill("¡Hola Ana! Sí, nos quedan dos en talla M.")
    composer.press("Control+Enter")
    mine = page.locator(".msg--out", has_text="nos quedan dos en talla M")
    expect(mine).to_be_visible(timeout=10_000)
    wait_for(
        lambda: (
            [m["request"]["text"]["body"] for m in desk.sent_to("5215512340001")]
            == ["¡Hola Ana! Sí, nos quedan dos en talla M."]
        )
    )
    expect(mine.locator('.ticks[data-status="read"]')).to_be_visible(timeout=10_000)
    expect(composer).to_have_value("")

    # a private note is styled apart and never goes to the customer
    page.click('[data-composer-mode="note"]')
    page.locator("[data-composer]").fill("Le interesa también el pantalón.")
    page.locator("[data-composer]").press("Control+Enter")
    expect(page.locator(".bubble--note", has_text="pantalón")).to_be_visible(timeout=10_000)
    assert len(desk.sent_to("5215512340001")) == 1

    # a photo with a caption: the paperclip, a caption, Ctrl+Enter; it reaches the simulated phone by media id
    page.click('[data-composer-mode="reply"]')
    page.set_input_files(
        "[data-attach-input]", files=[{"name": "escaparate.png", "mimeType": "image/png", "buffer": tiny_png()}]
    )
    expect(page.locator("[data-attachment]")).to_contain_text("escaparate.png")
    page.locator("[data-composer]").fill("Así queda el escaparate")
    page.locator("[data-composer]").press("Control+Enter")
    photo = page.locator('.msg--out[data-type="image"]', has_text="Así queda el escaparate")
    expect(photo.locator("img")).to_be_visible(timeout=10_000)
    wait_for(lambda: photo.locator("img").evaluate("img => img.complete && img.naturalWidth > 0"))
    expect(page.locator("[data-attachment]")).to_be_hidden()
    wait_for(lambda: [m["request"]["type"] for m in desk.sent_to("5215512340001")] == ["text", "image"])
    image = desk.sent_to("5215512340001")[1]["request"]["image"]
    assert image["caption"] == "Así queda el escaparate" and image["id"]
    expect(photo.locator('.ticks[data-status="read"]')).to_be_visible(timeout=10_000)
    phone = page.context.new_page()
    phone.goto(f"{desk.sim}/phone?wa_id=5215512340001")
    shown = phone.locator(f'#messages img[src$="/_sim/media/{image["id"]}"]')
    expect(shown).to_be_visible(timeout=10_000)
    expect(phone.locator("#messages")).to_contain_text("Así queda el escaparate")
    phone.screenshot(path=str(results_dir / "e2e-sim-phone-photo.png"))
    phone.close()

    page.screenshot(path=str(results_dir / "e2e-inbox-conversation.png"))
    if os.environ.get("MOSTRADOR_UPDATE_DOCS_SCREENSHOT"):  # refresh docs/img/inbox.png on purpose only
        page.screenshot(path=str(DOCS_IMG), type="png")
    assert [e for e in errors if "favicon" not in e] == []


def test_closed_window_offers_templates(page: Page, desk: Desk, results_dir: Path) -> None:
    errors = watch_errors(page)
    desk.customer_says("5215512340002", "Hola, ¿mi pedido?", name="Pedro Gil")
    deadline = time.monotonic() + 10

    async def conversation_id(session: Any) -> int | None:
        found = (
            await session.execute(
                select(Conversation.id).where(Conversation.last_message_preview == "Hola, ¿mi pedido?")
            )
        ).scalar_one_or_none()
        return int(found) if found is not None else None

    cid = None
    while cid is None and time.monotonic() < deadline:
        cid = desk.run(conversation_id)
        time.sleep(0.1)
    assert cid is not None

    async def close(session: Any) -> None:
        await session.execute(
            update(Conversation).where(Conversation.id == cid).values(window_expires_at=utc_now() - timedelta(hours=1))
        )

    desk.run(close)
    sign_in(page, desk.base_url)
    page.goto(f"{desk.base_url}/conversations/{cid}")
    expect(page.locator("[data-window-closed]")).to_contain_text(
        "La ventana de 24 h está cerrada: solo puedes enviar una plantilla aprobada"
    )
    expect(page.locator('[data-composer-mode="reply"]')).to_be_disabled()
    page.select_option("[data-template-select]", label="pedido_listo · es · utility")
    expect(page.locator("[data-template-preview-text]")).to_contain_text("Hola {{1}}")
    page.fill('input[name="body.1"]', "Pedro")
    page.fill('input[name="body.2"]', "CO-77")
    expect(page.locator("[data-template-preview-text]")).to_contain_text("Hola Pedro, tu pedido CO-77 está listo")
    page.click("[data-template-send]")
    expect(page.locator(".msg--out", has_text="tu pedido CO-77")).to_be_visible(timeout=10_000)
    wait_for(
        lambda: any(
            m["request"].get("template", {}).get("name") == "pedido_listo" for m in desk.sent_to("5215512340002")
        )
    )
    page.screenshot(path=str(results_dir / "e2e-inbox-template.png"))
    assert [e for e in errors if "favicon" not in e] == []


def test_a_message_processed_before_the_stream_opens_still_shows(page: Page, desk: Desk) -> None:
    """The page renders, then subscribes: a message applied in between had no stream to travel on."""
    sign_in(page, desk.base_url)
    held: list[Route] = []
    page.route("**/events", lambda route: held.append(route))  # the stream's request waits until we let it go
    page.goto(f"{desk.base_url}/?view=all")
    expect(page.locator("#conversation-list")).to_be_visible()
    desk.customer_says("5215512340009", "¿Abren el domingo?", name="Lola Ferrer")

    async def recorded(session: Any) -> bool:
        found = await session.execute(select(Conversation.id).join(Contact).where(Contact.name == "Lola Ferrer"))
        return found.first() is not None

    deadline = time.monotonic() + 10
    while not (held and desk.run(recorded)) and time.monotonic() < deadline:
        page.wait_for_timeout(100)  # lets Playwright deliver the held route
    assert held and desk.run(recorded)
    row = page.locator("#conversation-rows [data-nav-item]", has_text="Lola Ferrer")
    expect(row).to_have_count(0)  # nothing told the page yet
    held[0].continue_()
    expect(row).to_be_visible(timeout=10_000)


def test_emoji_picker_inserts_at_the_cursor_and_remembers(page: Page, desk: Desk, results_dir: Path) -> None:
    errors = watch_errors(page)
    open_new_customer(page, desk, "5215512340011", "¿Cuándo llega mi pedido?", "Rocío Vidal")
    composer = page.locator("[data-composer]")
    composer.fill("Tu pedido sale hoy")
    for _ in range(3):
        composer.press("ArrowLeft")  # the cursor before "hoy": the emoji goes where the cursor is

    page.click("[data-emoji-toggle]")
    panel = page.locator("[data-emoji-panel]")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Pedidos y envíos")
    search = panel.locator("[data-emoji-search]")
    expect(search).to_be_focused()
    search.fill("envio")  # without the accent, still found
    expect(panel.locator('[data-emoji-char="🚚"]')).to_be_visible()
    expect(panel.locator('[data-emoji-char="😀"]')).to_be_hidden()
    search.press("Enter")
    expect(composer).to_have_value("Tu pedido sale 🚚hoy")
    search.fill("")
    panel.locator('[data-emoji-group="gestures"] [data-emoji-char="👍"]').click()
    expect(composer).to_have_value("Tu pedido sale 🚚👍hoy")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    composer.press("Control+Enter")
    sent = "Tu pedido sale 🚚👍hoy"
    wait_for(lambda: [m["request"]["text"]["body"] for m in desk.sent_to("5215512340011")] == [sent])

    # the next composer opens the picker with what this agent used last, most recent first
    page.click("[data-emoji-toggle]")
    recent = page.locator("[data-emoji-recent-grid] [data-emoji-char]")
    expect(recent.first).to_have_attribute("data-emoji-char", "👍")
    expect(recent.nth(1)).to_have_attribute("data-emoji-char", "🚚")
    page.screenshot(path=str(results_dir / "e2e-inbox-emoji.png"))
    page.locator("#messages").click()  # a click elsewhere closes it
    expect(page.locator("[data-emoji-panel]")).to_be_hidden()
    assert [e for e in errors if "favicon" not in e] == []


def test_customer_xss_does_not_execute(page: Page, desk: Desk, results_dir: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_new_customer(page, desk, "5215512340003", "<img src=x onerror=alert(1)>", "<script>alert(1)</script>")
    expect(page.locator("#messages")).to_contain_text("<img src=x onerror=alert(1)>")
    expect(page.locator(".conv__name")).to_have_text("<script>alert(1)</script>")
    assert page.locator("#messages img[src='x']").count() == 0
    page.wait_for_timeout(500)
    page.screenshot(path=str(results_dir / "e2e-inbox-xss.png"))
    assert dialogs == []


def test_two_agents_see_assignment_and_typing_live(browser: Browser, desk: Desk, results_dir: Path) -> None:
    desk.customer_says("5215512340004", "¿Hacen envíos a Sevilla?", name="Carmen Ruiz")
    admin_context = browser.new_context(viewport={"width": 1440, "height": 900})
    agent_context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        admin, agent = admin_context.new_page(), agent_context.new_page()
        sign_in(admin, desk.base_url)
        sign_in(agent, desk.base_url, AGENT_EMAIL)
        for page in (admin, agent):
            page.goto(f"{desk.base_url}/?view=all")
            row = page.locator("#conversation-rows [data-nav-item]", has_text="Carmen Ruiz")
            expect(row).to_be_visible(timeout=10_000)
            row.locator("a").click()
            expect(page.locator("#messages")).to_contain_text("envíos a Sevilla")
        agent.wait_for_timeout(300)  # both streams are connected

        # the admin assigns the conversation to Luis: Luis sees it in his header without reloading
        admin.select_option("#conversation-header select[name=assignee_id]", label=AGENT_NAME)
        expect(admin.locator("[data-assignee-name]")).to_have_text(AGENT_NAME)
        expect(agent.locator("[data-assignee-name]")).to_have_text(AGENT_NAME, timeout=10_000)
        expect(agent.locator("#messages .activity", has_text=AGENT_NAME)).to_be_visible(timeout=10_000)

        # Luis types: the admin sees "Luis Agente está respondiendo…"
        agent.locator("[data-composer]").press_sequentially("Sí, en 48 h", delay=30)
        expect(admin.locator("#typing")).to_have_text(f"{AGENT_NAME} está respondiendo…", timeout=10_000)
        admin.screenshot(path=str(results_dir / "e2e-inbox-two-agents.png"))
    finally:
        admin_context.close()
        agent_context.close()


def test_contact_edits_show_in_a_colleagues_panel_live(browser: Browser, desk: Desk, results_dir: Path) -> None:
    desk.customer_says("5215512340005", "¿Tienen la talla L?", name="Rosa")
    admin_context = browser.new_context(viewport={"width": 1440, "height": 900})
    agent_context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        admin, agent = admin_context.new_page(), agent_context.new_page()
        errors = watch_errors(agent)
        sign_in(admin, desk.base_url)
        sign_in(agent, desk.base_url, AGENT_EMAIL)
        for page in (admin, agent):
            page.goto(f"{desk.base_url}/?view=all")
            row = page.locator("#conversation-rows [data-nav-item]", has_text="Rosa")
            expect(row).to_be_visible(timeout=10_000)
            row.locator("a").click()
            expect(page.locator("#contact-details input[name=name]")).to_have_value("Rosa")
        agent.wait_for_timeout(300)  # both streams are connected

        # the admin renames the customer and adds an attribute: Luis sees it without reloading
        admin.fill("#contact-details input[name=name]", "Rosa Delgado")
        admin.fill("#contact-details input[name=email]", "rosa@example.com")
        admin.locator("#contact-details input[name=attr_key]").last.fill("talla")
        admin.locator("#contact-details input[name=attr_value]").last.fill("L")
        admin.click("#contact-details button[type=submit]")
        expect(admin.locator("#contact-details")).to_contain_text("Contacto guardado.")
        expect(agent.locator("#contact-details input[name=name]")).to_have_value("Rosa Delgado", timeout=10_000)
        expect(agent.locator("#contact-details input[name=email]")).to_have_value("rosa@example.com")
        expect(agent.locator('#contact-details input[name=attr_value][value="L"]')).to_be_visible()
        expect(agent.locator(".conv__name")).to_have_text("Rosa Delgado", timeout=10_000)
        expect(agent.locator("#conversation-rows [data-nav-item]", has_text="Rosa Delgado")).to_be_visible()
        agent.wait_for_timeout(500)
        expect(admin.locator("#contact-details")).to_contain_text("Contacto guardado.")  # its own save stays

        # while Luis types in the panel, a change does not pull the field from under him; it shows when he leaves
        agent.click("#contact-details input[name=email]")
        admin.fill("#contact-details input[name=name]", "Rosa D.")
        admin.click("#contact-details button[type=submit]")
        expect(admin.locator("#contact-details")).to_contain_text("Contacto guardado.")
        agent.wait_for_timeout(1000)
        expect(agent.locator("#contact-details input[name=name]")).to_have_value("Rosa Delgado")
        agent.locator("#messages").click()
        expect(agent.locator("#contact-details input[name=name]")).to_have_value("Rosa D.", timeout=10_000)
        agent.screenshot(path=str(results_dir / "e2e-inbox-contact-live.png"))
        assert [e for e in errors if "favicon" not in e] == []
    finally:
        admin_context.close()
        agent_context.close()
