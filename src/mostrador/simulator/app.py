"""The simulator as an ASGI app: Graph API routes at the root, ``/_sim/*`` control API, ``/phone`` page."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .config import SimulatorConfig
from .engine import Simulator
from .errors import GraphError, invalid_param
from .phone_i18n import LANGS, strings

JSON = dict[str, Any]

_HERE = Path(__file__).parent
_VERSION_RE = re.compile(r"^v\d{1,2}\.\d$")
_jinja = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(["html"]))


async def _sim(request: Request) -> Simulator:
    sim: Simulator = request.app.state.simulator
    sim.ensure_started()
    return sim


def _check_version(version: str) -> None:
    if not _VERSION_RE.match(version):
        raise GraphError(2500, message=f"Unknown path components: /{version}", with_error_data=False)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    ctype = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" in ctype:
        form = await request.form()
        out: JSON = {}
        for key, value in form.items():
            text = str(value)
            try:
                out[key] = json.loads(text) if text[:1] in "[{" else text
            except ValueError:
                out[key] = text
        return out
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid_param("The request body is not valid JSON.") from None


def _auth(request: Request, sim: Simulator) -> None:
    sim.check_token(request.headers.get("authorization"), request.query_params.get("access_token"))


def create_simulator_app(
    config: SimulatorConfig, *, webhook_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """Build the simulator app. Background work starts on the first request (or in the lifespan)."""
    sim = Simulator(config, webhook_transport=webhook_transport)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await sim.start()
        try:
            yield
        finally:
            await sim.aclose()

    app = FastAPI(
        title="Mostrador Cloud API simulator",
        lifespan=lifespan,
        docs_url="/_sim/docs",
        openapi_url="/_sim/openapi.json",
        redoc_url=None,
    )
    app.state.simulator = sim

    @app.exception_handler(GraphError)
    async def graph_error(_: Request, exc: GraphError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.http_status)

    app.mount("/_sim/static", StaticFiles(directory=_HERE / "static"), name="sim-static")
    _control_routes(app)
    _phone_routes(app)
    _graph_routes(app)
    return app


# ====================================================================== control API


def _control_routes(app: FastAPI) -> None:
    @app.post("/_sim/inbound")
    async def inbound(request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        return sim.inbound(await _json_body(request))

    @app.get("/_sim/messages")
    async def messages(
        to: str | None = None, phone_number_id: str | None = None, sim: Simulator = Depends(_sim)
    ) -> list[JSON]:
        wa_id = to.lstrip("+") if to else None
        return sim.messages_to(wa_id, phone_number_id)

    @app.get("/_sim/config")
    async def get_config(sim: Simulator = Depends(_sim)) -> JSON:
        return {
            "behaviours": sim.behaviours.model_dump(),
            "numbers": [n.model_dump() for n in sim.config.numbers],
            "callback_url": sim.config.callback_url,
            "api_version": sim.config.api_version,
            "public_base_url": sim.config.public_base_url,
        }

    @app.post("/_sim/config")
    async def set_config(request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise invalid_param("The request body must be a JSON object.")
        patch = body.get("behaviours", body)
        try:
            behaviours = sim.update_behaviours(patch)
        except ValueError as exc:  # pydantic validation
            raise invalid_param(str(exc)) from None
        return {"behaviours": behaviours.model_dump()}

    @app.post("/_sim/reset")
    async def reset(sim: Simulator = Depends(_sim)) -> JSON:
        await sim.reset()
        return {"success": True}

    @app.post("/_sim/drain")
    async def drain(seconds: float = 10.0, sim: Simulator = Depends(_sim)) -> JSON:
        try:
            await sim.drain(timeout=min(seconds, 60.0))
        except TimeoutError:
            return {"success": False, "outstanding": sim.tracker.count}
        return {"success": True, "outstanding": 0}

    @app.get("/_sim/numbers")
    async def numbers(sim: Simulator = Depends(_sim)) -> list[JSON]:
        return [n.model_dump() for n in sim.state.numbers.values()]

    @app.get("/_sim/users")
    async def users(phone_number_id: str | None = None, sim: Simulator = Depends(_sim)) -> list[JSON]:
        pid = phone_number_id or sim.default_number().phone_number_id
        now = sim.clock.now()
        return [u.public(now, pid) for u in sorted(sim.state.users.values(), key=lambda u: -u.created_at)]

    @app.post("/_sim/users")
    async def create_user(request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        from .validation import normalise_phone

        body = await _json_body(request)
        if not isinstance(body, dict):
            raise invalid_param("The request body must be a JSON object.")
        wa_id = normalise_phone(str(body.get("wa_id") or body.get("phone") or ""))
        if wa_id is None:
            raise invalid_param("Param wa_id must be a phone number (digits, 6 to 15).")
        user = sim.get_or_create_user(wa_id, body.get("name"), body.get("username"))
        return user.public(sim.clock.now(), sim.default_number().phone_number_id)

    @app.post("/_sim/users/{wa_id}/stop-marketing")
    async def stop_marketing(wa_id: str, phone_number_id: str | None = None, sim: Simulator = Depends(_sim)) -> JSON:
        return sim.stop_marketing(wa_id, value="stop", phone_number_id=phone_number_id)

    @app.post("/_sim/users/{wa_id}/resume-marketing")
    async def resume_marketing(wa_id: str, phone_number_id: str | None = None, sim: Simulator = Depends(_sim)) -> JSON:
        return sim.stop_marketing(wa_id, value="resume", phone_number_id=phone_number_id)

    @app.get("/_sim/clock")
    async def clock(sim: Simulator = Depends(_sim)) -> JSON:
        return {"now": sim.clock.now(), "offset": sim.clock.offset}

    @app.post("/_sim/clock/advance")
    async def advance(request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise invalid_param("The request body must be a JSON object.")
        try:
            seconds = (
                float(body.get("seconds", 0))
                + 60 * float(body.get("minutes", 0))
                + 3600 * float(body.get("hours", 0))
                + 86400 * float(body.get("days", 0))
            )
        except (TypeError, ValueError):
            raise invalid_param("seconds/minutes/hours/days must be numbers.") from None
        return sim.advance_clock(seconds)

    @app.get("/_sim/webhooks")
    async def webhooks(
        limit: int = 200,
        field: str | None = None,
        state: str | None = None,
        with_body: bool = True,
        sim: Simulator = Depends(_sim),
    ) -> list[JSON]:
        items = [
            d
            for d in sim.state.deliveries
            if (field is None or d.field == field) and (state is None or d.state == state)
        ]
        return [d.public(with_body=with_body) for d in items[-max(1, min(limit, 20000)) :]]

    @app.post("/_sim/statuses")
    async def statuses(request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        body = await _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("wamids"), list):
            raise invalid_param("Param wamids (a list) is required.")
        wanted = body.get("statuses") or ["delivered", "read"]
        return sim.emit_statuses(
            [str(w) for w in body["wamids"]][:10000],
            [str(s) for s in wanted],
            duplicates=max(0, min(int(body.get("duplicates", 0)), 5)),
        )

    @app.post("/_sim/verify-callback")
    async def verify_callback(sim: Simulator = Depends(_sim)) -> JSON:
        return await sim.verify_callback()

    @app.get("/_sim/templates")
    async def templates(waba_id: str | None = None, sim: Simulator = Depends(_sim)) -> list[JSON]:
        return [t.public() for t in sim.state.templates.values() if waba_id is None or t.waba_id == waba_id]

    @app.post("/_sim/templates/{template_id}/status")
    async def template_status(template_id: str, request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        tpl = sim.find_template_by_id(template_id)
        if tpl is None:
            raise GraphError(100, "Unknown template", message="(#100) Unknown template", http_status=404)
        body = await _json_body(request)
        event = str(body.get("event", "APPROVED")).upper()
        if event not in ("APPROVED", "REJECTED", "PAUSED", "DISABLED", "FLAGGED", "REINSTATED", "PENDING"):
            raise invalid_param("Unknown event")
        sim.set_template_status(tpl, event, str(body.get("reason", "NONE")))
        return tpl.public()

    @app.post("/_sim/templates/{template_id}/quality")
    async def template_quality(template_id: str, request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        tpl = sim.find_template_by_id(template_id)
        if tpl is None:
            raise GraphError(100, "Unknown template", message="(#100) Unknown template", http_status=404)
        body = await _json_body(request)
        score = str(body.get("score", "GREEN")).upper()
        if score not in ("GREEN", "YELLOW", "RED", "UNKNOWN"):
            raise invalid_param("score must be GREEN, YELLOW, RED or UNKNOWN")
        sim.set_template_quality(tpl, score)
        return tpl.public()

    @app.get("/_sim/media/{media_id}")
    async def sim_media(media_id: str, sim: Simulator = Depends(_sim)) -> Response:
        item = sim.state.media.get(media_id)
        if item is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(item.data, media_type=item.mime_type, headers={"Cache-Control": "private, max-age=300"})

    @app.get("/_sim/thread")
    async def thread(
        wa_id: str,
        phone_number_id: str | None = None,
        since: int | None = None,
        wait: float = 0,
        sim: Simulator = Depends(_sim),
    ) -> JSON:
        pid = phone_number_id or sim.default_number().phone_number_id
        if since is not None and wait > 0:
            await sim.wait_change(since, min(wait, 25.0))
        return sim.thread(pid, wa_id.lstrip("+"))


# ====================================================================== phone page


def _phone_routes(app: FastAPI) -> None:
    @app.get("/phone", response_class=HTMLResponse)
    async def phone(request: Request, lang: str = "es", sim: Simulator = Depends(_sim)) -> HTMLResponse:
        lang = lang if lang in LANGS else "es"
        root = str(request.scope.get("root_path", "")).rstrip("/")
        html = _jinja.get_template("phone.html").render(
            root=root,
            lang=lang,
            langs=LANGS,
            t=strings(lang),
            strings_json=json.dumps(strings(lang), ensure_ascii=False),
            numbers=[n.model_dump() for n in sim.state.numbers.values()],
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})


# ====================================================================== Graph API


def _graph_routes(app: FastAPI) -> None:
    @app.get("/whatsapp_business/attachments/")
    async def download(
        request: Request, mid: str = "", ext: str = "", hash: str = "", sim: Simulator = Depends(_sim)
    ) -> Response:
        auth = request.headers.get("authorization")
        if not auth or not auth.lower().startswith("bearer ") or auth[7:].strip() != sim.config.access_token:
            return JSONResponse(
                GraphError(
                    190, message="Invalid OAuth access token - Cannot parse access token", with_error_data=False
                ).body(),
                status_code=401,
            )
        item = sim.media_download(mid, ext, hash)
        if item is None:
            return Response(b"URL signature mismatch or expired", status_code=404, media_type="text/plain")
        return Response(
            item.data,
            media_type=item.mime_type,
            headers={"Content-Disposition": f'inline; filename="{item.filename or item.id}"'},
        )

    @app.post("/{version}/{node_id}/messages")
    async def messages(version: str, node_id: str, request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        _check_version(version)
        _auth(request, sim)
        body = await _json_body(request)
        return await sim.handle_messages_post(node_id, body)

    @app.post("/{version}/{node_id}/media")
    async def upload(version: str, node_id: str, request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        _check_version(version)
        _auth(request, sim)
        sim.number(node_id)
        try:
            form = await request.form()
        except Exception:
            raise invalid_param("The request must be multipart/form-data.") from None
        upload_file = form.get("file")
        if upload_file is None or isinstance(upload_file, str):
            raise GraphError(100, "The parameter file is required.", message="(#100) The parameter file is required.")
        data = await upload_file.read()
        mime = str(form.get("type") or upload_file.content_type or "application/octet-stream")
        product = form.get("messaging_product")
        media_id = sim.upload_media(
            node_id, data, mime, upload_file.filename, messaging_product=str(product) if product is not None else None
        )
        return {"id": media_id}

    @app.get("/{version}/{node_id}/message_templates")
    async def list_templates(version: str, node_id: str, request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        _check_version(version)
        _auth(request, sim)
        return sim.list_templates(node_id, dict(request.query_params))

    @app.post("/{version}/{node_id}/message_templates")
    async def create_template(version: str, node_id: str, request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        _check_version(version)
        _auth(request, sim)
        return sim.create_template(node_id, await _json_body(request))

    @app.delete("/{version}/{node_id}/message_templates")
    async def delete_template(
        version: str,
        node_id: str,
        request: Request,
        name: str | None = None,
        hsm_id: str | None = None,
        sim: Simulator = Depends(_sim),
    ) -> JSON:
        _check_version(version)
        _auth(request, sim)
        return sim.delete_template(node_id, name, hsm_id)

    @app.get("/{version}/{node_id}")
    async def get_node(version: str, node_id: str, request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        _check_version(version)
        _auth(request, sim)
        if node_id in sim.state.media:
            return sim.media_info(node_id)
        tpl = sim.find_template_by_id(node_id)
        if tpl is not None:
            return tpl.public()
        number = sim.state.numbers.get(node_id)
        if number is not None:
            return {
                "verified_name": number.verified_name,
                "display_phone_number": number.display_phone_number,
                "id": number.phone_number_id,
                "quality_rating": "GREEN",
                "code_verification_status": "VERIFIED",
                "platform_type": "CLOUD_API",
                "throughput": {"level": "STANDARD"},
            }
        if node_id in sim.waba_ids():
            return {
                "id": node_id,
                "name": "Mostrador simulated WABA",
                "currency": "USD",
                "timezone_id": "1",
                "message_template_namespace": f"sim_{node_id}",
            }
        raise GraphError(
            100,
            message=f"Unsupported get request. Object with ID '{node_id}' does not exist, cannot "
            "be loaded due to missing permissions, or does not support this operation.",
            error_subcode=33,
            with_error_data=False,
        )

    @app.post("/{version}/{node_id}")
    async def post_node(version: str, node_id: str, request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        _check_version(version)
        _auth(request, sim)
        tpl = sim.find_template_by_id(node_id)
        if tpl is None:
            from .errors import unknown_object

            raise unknown_object(node_id)
        return sim.edit_template(tpl, await _json_body(request))

    @app.delete("/{version}/{node_id}")
    async def delete_node(version: str, node_id: str, request: Request, sim: Simulator = Depends(_sim)) -> JSON:
        _check_version(version)
        _auth(request, sim)
        return sim.delete_media(node_id)


# ====================================================================== test and embedding helpers


@dataclass
class RunningSimulator:
    app: FastAPI
    sim: Simulator
    client: httpx.AsyncClient  # talks to the app in-process, bearer token set

    @property
    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.app)

    async def drain(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        await self.sim.drain(timeout)


@asynccontextmanager
async def running_simulator(
    config: SimulatorConfig, *, webhook_transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[RunningSimulator]:
    """Run a simulator in-process (no lifespan needed): ``async with running_simulator(cfg) as rs: ...``."""
    app = create_simulator_app(config, webhook_transport=webhook_transport)
    sim: Simulator = app.state.simulator
    await sim.start()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://simulator",
        headers={"Authorization": f"Bearer {config.access_token}"},
    )
    try:
        yield RunningSimulator(app=app, sim=sim, client=client)
    finally:
        await client.aclose()
        await sim.aclose()
        await asyncio.sleep(0)
