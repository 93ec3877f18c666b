"""The simulator's behaviour: what Meta's Cloud API does when the business calls it and when users write."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
from collections import deque
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import payloads as P
from .config import Behaviours, SimNumber, SimulatorConfig
from .delivery import WebhookDispatcher, WorkTracker
from .errors import GraphError, invalid_param, invalid_token, missing_token, unknown_object, webhook_error
from .media import DEFAULT_MIME, base_mime, check_upload, placeholder, sha256_hex, url_hash
from .state import (
    WINDOW_S,
    InboundMessage,
    MediaItem,
    SentMessage,
    SimClock,
    SimulatorState,
    SimUser,
    StatusEvent,
    Template,
    make_bsuid,
    make_parent_bsuid,
)
from .templates import (
    HELLO_WORLD_COMPONENTS,
    authentication_components,
    check_send_params,
    render,
    review,
    validate_create,
)
from .validation import MEDIA_TYPES, ParsedSend, normalise_phone, parse_send

JSON = dict[str, Any]

INBOUND_TYPES = (
    "text",
    "image",
    "audio",
    "voice",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
)


class Simulator:
    """One simulated Cloud API: state, policies, background work (status sequences, reviews, deliveries)."""

    def __init__(self, config: SimulatorConfig, *, webhook_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.clock = SimClock()
        self.rng = random.Random(config.seed)
        self.behaviours: Behaviours = config.behaviours.model_copy(deep=True)
        self.state = SimulatorState()
        self.tracker = WorkTracker()
        self.version = 0  # bumped on every visible change (the phone page polls it)
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        self._throughput: dict[str, deque[float]] = {}
        self._pair: dict[tuple[str, str], tuple[float, float]] = {}  # (phone id, wa_id) -> (tokens, at)
        self._template_seq = 0
        self._media_seq = 0
        self.dispatcher = WebhookDispatcher(
            callback_url=lambda: self.config.callback_url,
            app_secret=config.app_secret,
            behaviours=lambda: self.behaviours,
            clock=self.clock,
            rng=self.rng,
            tracker=self.tracker,
            log=self.state.deliveries,
            transport=webhook_transport,
            on_change=self.touch,
        )
        self._seed_state()

    # ================================================================== lifecycle

    def _seed_state(self) -> None:
        for n in self.config.numbers:
            self.state.numbers[n.phone_number_id] = n
        for waba_id in sorted({n.waba_id for n in self.config.numbers}):
            tpl = Template(
                id=self._new_template_id(),
                waba_id=waba_id,
                name="hello_world",
                language="en_US",
                category="UTILITY",
                components=[dict(c) for c in HELLO_WORLD_COMPONENTS],
                status="APPROVED",
                quality_score="GREEN",
                created_at=self.clock.now(),
            )
            self.state.templates[tpl.id] = tpl

    async def start(self) -> None:
        """Start background work on the running loop (idempotent)."""
        if self._started:
            return
        self._started = True
        self.dispatcher.start()

    def ensure_started(self) -> None:
        if not self._started:
            self._started = True
            self.dispatcher.start()

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        self._tasks.clear()
        await self.dispatcher.aclose()
        self._started = False
        self.tracker = WorkTracker()
        self.dispatcher._tracker = self.tracker

    async def drain(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every scheduled status, review and webhook delivery has finished."""
        await asyncio.wait_for(self.tracker.wait_idle(), timeout)

    async def reset(self) -> None:
        """Forget users, messages, media, templates and deliveries; restore behaviours and the clock."""
        await self.aclose()
        self.state.users.clear()
        self.state.users_by_bsuid.clear()
        self.state.sent.clear()
        self.state.inbound.clear()
        self.state.media.clear()
        self.state.templates.clear()
        self.state.typing_until.clear()
        self.state.reached.clear()
        self.dispatcher.clear()
        self._throughput.clear()
        self._pair.clear()
        self.clock.reset()
        self.rng.seed(self.config.seed)
        self.behaviours = self.config.behaviours.model_copy(deep=True)
        self._seed_state()
        self.touch()

    def touch(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_change(self, since: int, timeout: float) -> int:  # noqa: ASYNC109
        if self.version == since:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return self.version

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        self.ensure_started()
        self.tracker.add()

        async def run() -> None:
            try:
                await coro
            finally:
                self.tracker.done()

        task = asyncio.create_task(run(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def update_behaviours(self, patch: JSON) -> Behaviours:
        merged = self.behaviours.model_dump()
        for key, value in patch.items():
            if key not in merged:
                raise GraphError(100, f"Unknown behaviour: {key}", message=f"(#100) Unknown behaviour: {key}")
            merged[key] = value
        self.behaviours = Behaviours.model_validate(merged)
        self.touch()
        return self.behaviours

    # ================================================================== helpers

    def check_token(self, authorization: str | None, query_token: str | None = None) -> None:
        token: str | None = None
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        elif query_token:
            token = query_token
        if not token:
            raise missing_token()
        if token != self.config.access_token:
            raise invalid_token()

    def number(self, phone_number_id: str, method: str = "post") -> SimNumber:
        n = self.state.numbers.get(phone_number_id)
        if n is None:
            raise unknown_object(phone_number_id, method)
        return n

    def default_number(self) -> SimNumber:
        return next(iter(self.state.numbers.values()))

    def waba_ids(self) -> set[str]:
        return {n.waba_id for n in self.state.numbers.values()}

    def number_of_waba(self, waba_id: str) -> SimNumber:
        for n in self.state.numbers.values():
            if n.waba_id == waba_id:
                return n
        raise unknown_object(waba_id)

    def new_wamid(self, wa_id: str) -> str:
        raw = b"\x15\x02\x00\x11\x18\x12" + wa_id.encode() + self.rng.randbytes(12)
        return "wamid.HBgL" + base64.b64encode(raw).decode()

    def _new_template_id(self) -> str:
        self._template_seq += 1
        return str(1_600_000_000_000_000 + self._template_seq * 7919 + self.rng.randrange(1000))

    def _new_media_id(self) -> str:
        self._media_seq += 1
        return str(4_000_000_000_000_000 + self._media_seq * 104729 + self.rng.randrange(100000))

    def get_or_create_user(self, wa_id: str, name: str | None = None, username: str | None = None) -> SimUser:
        user = self.state.users.get(wa_id)
        if user is None:
            waba = self.default_number().waba_id
            user = SimUser(
                wa_id=wa_id,
                name=name or f"Cliente {wa_id[-4:]}",
                user_id=make_bsuid(wa_id, waba),
                parent_user_id=make_parent_bsuid(wa_id),
                username=username,
                created_at=self.clock.now(),
            )
            self.state.users[wa_id] = user
            self.state.users_by_bsuid[user.user_id] = wa_id
            self.touch()
        else:
            if name:
                user.name = name
            if username:
                user.username = username
        return user

    def _contact(self, user: SimUser) -> JSON:
        return P.contact(
            wa_id=user.wa_id,
            user_id=user.user_id,
            name=user.name,
            parent_user_id=user.parent_user_id,
            username=user.username,
            country_code=user.user_id.split(".", 1)[0],
        )

    # ================================================================== send

    async def handle_messages_post(self, phone_number_id: str, body: Any) -> JSON:
        number = self.number(phone_number_id)
        if isinstance(body, dict) and body.get("status") == "read" and "message_id" in body:
            return self.mark_read(number, body)
        return self.send(number, body)

    def mark_read(self, number: SimNumber, body: JSON) -> JSON:
        if body.get("messaging_product") != "whatsapp":
            raise GraphError(
                100,
                "The parameter messaging_product is required.",
                message="(#100) The parameter messaging_product is required.",
            )
        mid = body.get("message_id")
        msg = self.state.inbound.get(mid) if isinstance(mid, str) else None
        if msg is None or msg.phone_number_id != number.phone_number_id:
            raise invalid_param(f"Param message_id ('{mid}') is not a valid message id for this phone number.")
        for m in self.state.inbound.values():
            if m.phone_number_id == msg.phone_number_id and m.wa_id == msg.wa_id and m.seq <= msg.seq:
                m.read = True
        typing = body.get("typing_indicator")
        if typing is not None:
            if not isinstance(typing, dict) or typing.get("type") != "text":
                raise invalid_param("Param typing_indicator['type'] must be 'text'.")
            self.state.typing_until[(msg.phone_number_id, msg.wa_id)] = self.clock.now() + 25
        self.touch()
        return {"success": True}

    def send(self, number: SimNumber, body: Any) -> JSON:
        b = self.behaviours
        if b.send_error_rate and self.rng.random() < b.send_error_rate:
            raise GraphError(b.send_error_code, http_status=500 if b.send_error_code in (1, 2, 131000) else 400)
        parsed = parse_send(body)
        user = self._recipient(parsed)
        template = self._check_type_specific(number, parsed)
        now = self.clock.now()
        self._check_throughput(number, now)
        self._check_pair_rate(number, user, now)

        window = user.window_open(number.phone_number_id, now)
        category = template.category.lower() if template else "service"
        free = window and (template is None or category == "utility")
        pricing_type = "free_customer_service" if free else "regular"
        failure = self._planned_failure(number, user, parsed, template, window, now)

        wamid = self.new_wamid(user.wa_id)
        msg = SentMessage(
            seq=self.state.next_seq(),
            wamid=wamid,
            phone_number_id=number.phone_number_id,
            to=user.wa_id,
            user_id=user.user_id,
            to_bsuid=parsed.to is None,
            type=parsed.type,
            request=body,
            created_at=now,
            category=category,
            pricing_type=pricing_type,
            render=self._render(parsed, template),
            planned_failure=failure,
        )
        self.state.sent[wamid] = msg
        self.state.typing_until.pop((number.phone_number_id, user.wa_id), None)
        self._spawn(self._sequence(msg, parsed.biz_opaque_callback_data), name=f"sim-status-{wamid[-8:]}")
        self.touch()
        contact: JSON = {"input": parsed.to_input, "wa_id": "" if parsed.to is None else user.wa_id}
        if parsed.to is None:
            contact["user_id"] = user.user_id
        message: JSON = {"id": wamid}
        if template is not None:
            message["message_status"] = "accepted"
        return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]}

    def _recipient(self, parsed: ParsedSend) -> SimUser:
        if parsed.to is not None:
            return self.get_or_create_user(parsed.to)
        assert parsed.recipient_bsuid is not None
        wa_id = self.state.users_by_bsuid.get(parsed.recipient_bsuid)
        if wa_id is None:
            raise invalid_param(f"Param recipient ('{parsed.recipient_bsuid}') is not a known business-scoped user id.")
        return self.state.users[wa_id]

    def _check_type_specific(self, number: SimNumber, parsed: ParsedSend) -> Template | None:
        if parsed.type in MEDIA_TYPES:
            media_id = parsed.content.get("id")
            if media_id is not None and media_id not in self.state.media:
                raise invalid_param(
                    f"Param {parsed.type}['id'] is not a valid whatsapp business account media attachment ID"
                )
        if parsed.type == "interactive":
            header = parsed.content.get("header") or {}
            media = header.get(header.get("type", "")) if isinstance(header, dict) else None
            if isinstance(media, dict) and media.get("id") is not None and media["id"] not in self.state.media:
                raise invalid_param("Param interactive['header'] media id is not a valid media attachment ID")
        if parsed.type != "template":
            return None
        name = parsed.content["name"]
        lang = parsed.content["language"]["code"]
        template = self.state.find_template(number.waba_id, name, lang)
        if template is None:
            raise GraphError(132001, f"template name ({name}) does not exist in {lang}")
        if template.status == "PAUSED":
            raise GraphError(132015, f"template ({name}) is paused")
        if template.status == "DISABLED":
            raise GraphError(132016, f"template ({name}) is disabled")
        if template.status != "APPROVED":
            raise GraphError(132001, f"template name ({name}) does not exist in {lang}")
        check_send_params(template, parsed.content)
        return template

    def _check_throughput(self, number: SimNumber, now: float) -> None:
        limit = self.behaviours.throughput_mps or number.throughput_mps
        window = self._throughput.setdefault(number.phone_number_id, deque())
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= limit:
            raise GraphError(
                130429,
                f"Cloud API message throughput ({limit} messages per second) has been reached for this phone number.",
            )
        window.append(now)

    def _check_pair_rate(self, number: SimNumber, user: SimUser, now: float) -> None:
        b = self.behaviours
        key = (number.phone_number_id, user.wa_id)
        tokens, at = self._pair.get(key, (float(b.pair_rate_burst), now))
        tokens = min(float(b.pair_rate_burst), tokens + max(0.0, now - at) * b.pair_rate_per_s)
        if tokens < 1.0:
            self._pair[key] = (tokens, now)
            raise GraphError(131056)
        self._pair[key] = (tokens - 1.0, now)

    def _planned_failure(
        self, number: SimNumber, user: SimUser, parsed: ParsedSend, template: Template | None, window: bool, now: float
    ) -> JSON | None:
        b = self.behaviours
        if template is None and not window and b.enforce_window:
            return {"code": 131047, "after_sent": False}
        if user.wa_id in b.undeliverable_numbers:
            return {"code": 131026, "after_sent": False}
        if template is not None and template.category == "MARKETING" and user.marketing_opt_out:
            return {"code": 131050, "after_sent": False}
        if template is not None and not window and b.messaging_limit is not None:
            reached = self.state.reached.setdefault(number.waba_id, {})
            for wa_id, at in list(reached.items()):
                if now - at >= WINDOW_S:
                    del reached[wa_id]
            if user.wa_id not in reached and len(reached) >= b.messaging_limit:
                return {
                    "code": 131048,
                    "after_sent": False,
                    "details": f"Messaging limit reached: {b.messaging_limit} unique users outside the "
                    "customer service window in a moving 24 hours.",
                }
            reached.setdefault(user.wa_id, now)
        link = self._media_link(parsed)
        if link is not None and (urlsplit(link).hostname or "").endswith(".invalid"):
            return {
                "code": 131053,
                "after_sent": False,
                "details": "Downloading media from weblink failed with http code 404, status message Not Found",
            }
        if b.failure_rate and self.rng.random() < b.failure_rate:
            return {"code": b.failure_code, "after_sent": True}
        return None

    @staticmethod
    def _media_link(parsed: ParsedSend) -> str | None:
        if parsed.type in MEDIA_TYPES:
            link = parsed.content.get("link")
            return link if isinstance(link, str) else None
        return None

    def _render(self, parsed: ParsedSend, template: Template | None) -> JSON:
        c = parsed.content
        if template is not None:
            return render(template, c)
        if parsed.type == "text":
            return {"kind": "text", "body": c["body"]}
        if parsed.type in MEDIA_TYPES:
            return {
                "kind": "media",
                "media_type": parsed.type,
                "media_id": c.get("id"),
                "link": c.get("link"),
                "caption": c.get("caption"),
                "filename": c.get("filename"),
            }
        if parsed.type == "location":
            return {
                "kind": "location",
                "latitude": c.get("latitude"),
                "longitude": c.get("longitude"),
                "name": c.get("name"),
                "address": c.get("address"),
            }
        if parsed.type == "contacts":
            return {"kind": "contacts", "names": [card["name"]["formatted_name"] for card in c]}
        if parsed.type == "reaction":
            return {"kind": "reaction", "message_id": c["message_id"], "emoji": c["emoji"]}
        # interactive
        out: JSON = {"kind": "interactive", "itype": c["type"], "body": (c.get("body") or {}).get("text", "")}
        header = c.get("header")
        if isinstance(header, dict):
            out["header"] = {"type": header.get("type"), "text": header.get("text")}
        if isinstance(c.get("footer"), dict):
            out["footer"] = c["footer"].get("text")
        action = c.get("action") or {}
        if c["type"] == "button":
            out["buttons"] = [{"id": b["reply"]["id"], "title": b["reply"]["title"]} for b in action["buttons"]]
        elif c["type"] == "list":
            out["button_label"] = action.get("button")
            out["sections"] = [
                {
                    "title": s.get("title"),
                    "rows": [
                        {"id": r["id"], "title": r["title"], "description": r.get("description")} for r in s["rows"]
                    ],
                }
                for s in action["sections"]
            ]
        elif c["type"] == "cta_url":
            out["cta"] = action.get("parameters")
        return out

    # ------------------------------------------------------------------ status sequence

    async def _sequence(self, msg: SentMessage, opaque: str | None) -> None:
        b = self.behaviours
        d = b.status_delays
        failure = msg.planned_failure
        plan: list[tuple[str, float, list[JSON] | None]] = []
        if failure is not None and not failure.get("after_sent"):
            plan.append(("failed", d.sent, [webhook_error(int(failure["code"]), failure.get("details"))]))
        else:
            plan.append(("sent", d.sent, None))
            if failure is not None:
                plan.append(("failed", d.delivered, [webhook_error(int(failure["code"]), failure.get("details"))]))
            elif self.rng.random() < b.deliver_probability:
                plan.append(("delivered", d.delivered, None))
                if self.rng.random() < b.read_probability:
                    plan.append(("read", d.read, None))
        reorder = len(plan) > 1 and b.reorder_rate and self.rng.random() < b.reorder_rate
        if not reorder:
            for status, delay, errors in plan:
                if delay:
                    await asyncio.sleep(delay)
                self._emit_status(msg, status, self.clock.timestamp(), errors, opaque)
            return
        # reordered: every status keeps its true timestamp but they arrive newest first
        base = self.clock.now()
        stamps: list[tuple[str, int, list[JSON] | None]] = []
        elapsed = 0.0
        for status, delay, errors in plan:
            elapsed += delay
            stamps.append((status, int(base + elapsed), errors))
        if elapsed:
            await asyncio.sleep(elapsed)
        for status, ts, errors in reversed(stamps):
            self._emit_status(msg, status, ts, errors, opaque)

    def _emit_status(
        self, msg: SentMessage, status: str, timestamp: int, errors: list[JSON] | None, opaque: str | None
    ) -> None:
        number = self.state.numbers[msg.phone_number_id]
        user = self.state.users.get(msg.to)
        if user is None:  # reset while sequencing
            return
        msg.statuses.append(StatusEvent(status=status, timestamp=timestamp, errors=errors))
        pricing = None if status == "failed" else P.pricing(category=msg.category, type_=msg.pricing_type)
        st = P.status(
            wamid=msg.wamid,
            status_=status,
            timestamp=timestamp,
            recipient_wa_id="" if msg.to_bsuid else user.wa_id,
            recipient_user_id=user.user_id if msg.to_bsuid else None,
            biz_opaque_callback_data=opaque,
            pricing_=pricing,
            errors=errors,
        )
        payload = P.status_webhook(
            waba_id=number.waba_id,
            display_phone_number=number.display_phone_number,
            phone_number_id=number.phone_number_id,
            contact_=self._contact(user),
            status_=st,
        )
        self.dispatcher.enqueue("messages", f"status {status} {msg.wamid}", payload, key=user.wa_id)

    def emit_statuses(self, wamids: list[str], statuses: list[str], *, duplicates: int = 0) -> JSON:
        """A status storm: emit the given statuses for known wamids right away (bench and reliability tests)."""
        emitted = 0
        unknown: list[str] = []
        for wamid in wamids:
            msg = self.state.sent.get(wamid)
            if msg is None:
                unknown.append(wamid)
                continue
            for status in statuses:
                if status not in ("sent", "delivered", "read", "failed"):
                    raise invalid_param(f"Unknown status {status}")
                errors = [webhook_error(self.behaviours.failure_code)] if status == "failed" else None
                for _ in range(1 + duplicates):
                    self._emit_status(msg, status, self.clock.timestamp(), errors, None)
                    emitted += 1
        self.touch()
        return {"emitted": emitted, "unknown": unknown}

    # ================================================================== media

    def upload_media(
        self,
        phone_number_id: str,
        data: bytes,
        mime_type: str,
        filename: str | None,
        *,
        uploaded_by: str = "business",
        messaging_product: str | None = "whatsapp",
    ) -> str:
        self.number(phone_number_id)
        if messaging_product != "whatsapp":
            raise GraphError(
                100,
                "The parameter messaging_product is required.",
                message="(#100) The parameter messaging_product is required.",
            )
        problem = check_upload(mime_type, len(data))
        if problem is not None:
            raise GraphError(131053, problem)
        media_id = self._new_media_id()
        self.state.media[media_id] = MediaItem(
            id=media_id,
            phone_number_id=phone_number_id,
            data=data,
            mime_type=base_mime(mime_type),
            sha256=sha256_hex(data),
            filename=filename,
            created_at=self.clock.now(),
            uploaded_by=uploaded_by,
        )
        return media_id

    def media_url(self, media_id: str) -> str:
        expires = int(self.clock.now() + self.behaviours.media_url_ttl_s)
        h = url_hash(self.config.app_secret, media_id, expires)
        return f"{self.config.public_base_url}/whatsapp_business/attachments/?mid={media_id}&ext={expires}&hash={h}"

    def media_info(self, media_id: str) -> JSON:
        item = self.state.media.get(media_id)
        if item is None:
            raise unknown_object(media_id, "get")
        return {
            "messaging_product": "whatsapp",
            "url": self.media_url(media_id),
            "mime_type": item.mime_type,
            "sha256": item.sha256,
            "file_size": str(len(item.data)),
            "id": media_id,
        }

    def media_download(self, media_id: str, expires: str, h: str) -> MediaItem | None:
        item = self.state.media.get(media_id)
        if item is None or not expires.isdigit():
            return None
        if url_hash(self.config.app_secret, media_id, int(expires)) != h or int(expires) < self.clock.now():
            return None
        return item

    def delete_media(self, media_id: str) -> JSON:
        if self.state.media.pop(media_id, None) is None:
            raise unknown_object(media_id, "delete")
        return {"success": True}

    # ================================================================== templates

    def create_template(self, waba_id: str, body: Any) -> JSON:
        if waba_id not in self.waba_ids():
            raise unknown_object(waba_id)
        fields = validate_create(body)
        if self.state.find_template(waba_id, fields["name"], fields["language"]) is not None:
            raise GraphError(
                100,
                "Content in this language already exists",
                message="Invalid parameter",
                error_subcode=2388024,
                user_title="Message template already exists",
                user_msg=f"There is already {fields['language']} content for this template.",
            )
        comps = fields["components"]
        if fields["category"] == "AUTHENTICATION":
            comps = authentication_components(comps)
        tpl = Template(
            id=self._new_template_id(),
            waba_id=waba_id,
            name=fields["name"],
            language=fields["language"],
            category=fields["category"],
            components=comps,
            parameter_format=fields["parameter_format"],
            created_at=self.clock.now(),
        )
        self.state.templates[tpl.id] = tpl
        self._spawn(self._review(tpl), name=f"sim-review-{tpl.id}")
        self.touch()
        return {"id": tpl.id, "status": tpl.status, "category": tpl.category}

    async def _review(self, tpl: Template) -> None:
        delay = self.behaviours.template_review_delay_s
        if delay:
            await asyncio.sleep(delay)
        if self.state.templates.get(tpl.id) is not tpl or tpl.status != "PENDING":
            return
        event, reason, info = review(tpl, self.behaviours.template_review_rules)
        self.set_template_status(tpl, event, reason, info)

    def set_template_status(
        self, tpl: Template, event: str, reason: str = "NONE", rejection_info: JSON | None = None
    ) -> None:
        tpl.status = event
        tpl.rejected_reason = reason
        if event == "APPROVED" and tpl.quality_score == "UNKNOWN":
            tpl.quality_score = "GREEN"
        payload = P.template_status_update(
            waba_id=tpl.waba_id,
            time=self.clock.timestamp(),
            event=event,
            template_id=tpl.id,
            name=tpl.name,
            language=tpl.language,
            category=tpl.category,
            reason=reason,
            rejection_info=rejection_info,
        )
        self.dispatcher.enqueue(
            "message_template_status_update", f"template {tpl.name} {event}", payload, key=f"tpl:{tpl.waba_id}"
        )
        self.touch()

    def set_template_quality(self, tpl: Template, score: str) -> None:
        previous = tpl.quality_score
        tpl.quality_score = score
        payload = P.template_quality_update(
            waba_id=tpl.waba_id,
            time=self.clock.timestamp(),
            template_id=tpl.id,
            name=tpl.name,
            language=tpl.language,
            previous=previous,
            new=score,
        )
        self.dispatcher.enqueue(
            "message_template_quality_update", f"template {tpl.name} quality {score}", payload, key=f"tpl:{tpl.waba_id}"
        )

    def edit_template(self, tpl: Template, body: Any) -> JSON:
        if not isinstance(body, dict):
            raise invalid_param("The request body must be a JSON object.")
        fields = validate_create(
            {
                "name": tpl.name,
                "language": tpl.language,
                "category": body.get("category", tpl.category),
                "parameter_format": body.get("parameter_format", tpl.parameter_format),
                "components": body.get("components", tpl.components),
            }
        )
        tpl.components = fields["components"]
        tpl.category = fields["category"]
        tpl.status = "PENDING"
        self._spawn(self._review(tpl), name=f"sim-review-{tpl.id}")
        return {"success": True}

    def list_templates(self, waba_id: str, query: dict[str, str]) -> JSON:
        if waba_id not in self.waba_ids():
            raise unknown_object(waba_id, "get")
        items = sorted(self.state.templates_of(waba_id), key=lambda t: int(t.id))
        for key in ("name", "status", "category", "language"):
            if query.get(key):
                wanted = query[key]
                items = [
                    t
                    for t in items
                    if str(getattr(t, key)).upper() == wanted.upper() or (key == "name" and wanted in t.name)
                ]
        try:
            limit = max(1, min(int(query.get("limit", "25")), 1000))
        except ValueError:
            raise invalid_param("Param limit must be a number.") from None
        start = 0
        after = query.get("after")
        if after:
            try:
                start = int(base64.urlsafe_b64decode(after.encode()).decode())
            except ValueError:
                raise invalid_param("Param after is not a valid cursor.") from None
        page = items[start : start + limit]
        data = [t.public() for t in page]
        fields = query.get("fields")
        if fields:
            wanted_fields = {f.strip() for f in fields.split(",")} | {"id"}
            data = [{k: v for k, v in d.items() if k in wanted_fields} for d in data]
        paging: JSON = {
            "cursors": {
                "before": base64.urlsafe_b64encode(str(start).encode()).decode(),
                "after": base64.urlsafe_b64encode(str(start + len(page)).encode()).decode(),
            }
        }
        if start + limit < len(items):
            paging["next"] = f"?after={paging['cursors']['after']}&limit={limit}"
        return {"data": data, "paging": paging}

    def delete_template(self, waba_id: str, name: str | None, hsm_id: str | None) -> JSON:
        if waba_id not in self.waba_ids():
            raise unknown_object(waba_id, "delete")
        if not name and not hsm_id:
            raise GraphError(100, "The parameter name is required.", message="(#100) The parameter name is required")
        victims = [
            t
            for t in self.state.templates_of(waba_id)
            if (hsm_id is None or t.id == hsm_id) and (name is None or t.name == name)
        ]
        if not victims:
            raise GraphError(
                100,
                f'Message template "{name or hsm_id}" not found',
                message="Invalid parameter",
                error_subcode=2593002,
                user_title="Message template not found",
                user_msg=f'Message template "{name or hsm_id}" not found',
            )
        for t in victims:
            del self.state.templates[t.id]
        self.touch()
        return {"success": True}

    def find_template_by_id(self, template_id: str) -> Template | None:
        return self.state.templates.get(template_id)

    # ================================================================== users and inbound

    def stop_marketing(self, wa_id: str, *, value: str = "stop", phone_number_id: str | None = None) -> JSON:
        user = self.state.users.get(wa_id)
        if user is None:
            raise GraphError(100, f"Unknown user {wa_id}", message=f"(#100) Unknown user {wa_id}", http_status=404)
        number = self.number(phone_number_id) if phone_number_id else self.default_number()
        user.marketing_opt_out = value == "stop"
        payload = P.user_preferences(
            waba_id=number.waba_id,
            display_phone_number=number.display_phone_number,
            phone_number_id=number.phone_number_id,
            contact_=self._contact(user),
            wa_id=user.wa_id,
            value=value,
            timestamp=self.clock.timestamp(),
        )
        d = self.dispatcher.enqueue("user_preferences", f"user_preferences {value} {wa_id}", payload, key=wa_id)
        self.touch()
        return {"wa_id": wa_id, "marketing_opt_out": user.marketing_opt_out, "delivery_id": d.id}

    def _inbound_media(self, number: SimNumber, kind: str, spec: JSON) -> JSON:
        """Turn the control API's media description into a stored media item and the webhook's media object."""
        media_kind = "audio" if kind == "voice" else kind
        media_id = spec.get("id")
        if isinstance(media_id, str) and media_id in self.state.media:
            item = self.state.media[media_id]
        else:
            data_b64 = spec.get("data") or spec.get("data_base64")
            if isinstance(data_b64, str) and data_b64:
                if "," in data_b64 and data_b64.startswith("data:"):
                    data_b64 = data_b64.split(",", 1)[1]
                try:
                    data = base64.b64decode(data_b64, validate=False)
                except ValueError:
                    raise invalid_param(f"{kind}.data is not valid base64") from None
                mime = str(spec.get("mime_type") or DEFAULT_MIME[media_kind])
            else:
                data, mime = placeholder(media_kind)
            if kind == "voice" or (media_kind == "audio" and spec.get("voice")):
                mime = "audio/ogg"
            new_id = self.upload_media(number.phone_number_id, data, mime, spec.get("filename"), uploaded_by="user")
            item = self.state.media[new_id]
        mime_type = item.mime_type
        if media_kind == "audio" and (kind == "voice" or spec.get("voice")):
            mime_type = "audio/ogg; codecs=opus"
        filename = spec.get("filename") or item.filename
        if media_kind == "document" and not filename:
            filename = "documento.pdf"
        return P.media_object(
            media_id=item.id,
            mime_type=mime_type,
            sha256=item.sha256,
            caption=spec.get("caption") if media_kind in ("image", "video", "document") else None,
            filename=filename if media_kind == "document" else None,
        )

    def _last_sent(self, number: SimNumber, wa_id: str, kind: str) -> SentMessage | None:
        best: SentMessage | None = None
        for m in self.state.sent.values():
            same = m.phone_number_id == number.phone_number_id and m.to == wa_id and m.type == kind
            if same and (best is None or m.seq > best.seq):
                best = m
        return best

    def inbound(self, body: Any) -> JSON:
        """``POST /_sim/inbound``: a simulated user writes to a business number."""
        if not isinstance(body, dict):
            raise invalid_param("The request body must be a JSON object.")
        pid = body.get("phone_number_id")
        number = self.number(str(pid)) if pid else self.default_number()
        from_raw = body.get("from")
        wa_id = normalise_phone(str(from_raw)) if from_raw else None
        if wa_id is None:
            raise invalid_param("Param from must be the user's phone number (digits).")
        kind = str(body.get("type") or "text")
        if kind not in INBOUND_TYPES:
            raise invalid_param(f"Param type must be one of {', '.join(INBOUND_TYPES)}.")
        user = self.get_or_create_user(wa_id, body.get("name"), body.get("username"))
        now = self.clock.now()
        wamid = self.new_wamid(wa_id)
        context: JSON | None = None
        reply_to = body.get("reply_to")
        if isinstance(reply_to, str) and reply_to:
            context = P.reply_context(business_display_number=number.display_phone_number, wamid=reply_to)
        elif body.get("forwarded"):
            context = {"frequently_forwarded": True} if body.get("forwarded") == "frequently" else {"forwarded": True}
        common = P.message_common(
            wamid=wamid, from_wa_id=wa_id, from_user_id=user.user_id, timestamp=int(now), context=context
        )
        msg = self._build_inbound(number, user, kind, body, common)
        if isinstance(body.get("referral"), dict):
            msg["referral"] = body["referral"]
        user.last_inbound[number.phone_number_id] = now
        self.state.typing_until.pop((number.phone_number_id, wa_id), None)
        payload = P.inbound_webhook(
            waba_id=number.waba_id,
            display_phone_number=number.display_phone_number,
            phone_number_id=number.phone_number_id,
            contact_=self._contact(user),
            message=msg,
        )
        record = InboundMessage(
            seq=self.state.next_seq(),
            wamid=wamid,
            phone_number_id=number.phone_number_id,
            wa_id=wa_id,
            type=msg["type"],
            message=msg,
            created_at=now,
        )
        self.state.inbound[wamid] = record
        self.ensure_started()
        d = self.dispatcher.enqueue("messages", f"{msg['type']} from {wa_id}", payload, key=wa_id)
        record.delivery_id = d.id
        self.touch()
        return {"wamid": wamid, "delivery_id": d.id, "user_id": user.user_id}

    def _build_inbound(self, number: SimNumber, user: SimUser, kind: str, body: JSON, common: JSON) -> JSON:
        spec = body.get(kind)
        if kind == "text":
            text = spec.get("body") if isinstance(spec, dict) else spec
            if not isinstance(text, str) or not text:
                raise invalid_param("Param text is required (a string or {body}).")
            return P.text(common, text)
        if kind in ("image", "video", "document", "sticker", "audio", "voice"):
            media = self._inbound_media(number, kind, spec if isinstance(spec, dict) else {})
            if kind == "image":
                return P.image(common, media)
            if kind == "video":
                return P.video(common, media)
            if kind == "document":
                return P.document(common, media)
            if kind == "sticker":
                return P.sticker(common, media, animated=bool((spec or {}).get("animated")))
            voice = kind == "voice" or bool((spec or {}).get("voice"))
            return P.audio(common, media, voice=voice)
        if kind == "location":
            loc = spec if isinstance(spec, dict) else {}
            try:
                lat, lon = float(loc["latitude"]), float(loc["longitude"])
            except (KeyError, TypeError, ValueError):
                raise invalid_param("Param location needs numeric latitude and longitude.") from None
            return P.location(
                common,
                latitude=lat,
                longitude=lon,
                name=loc.get("name"),
                address=loc.get("address"),
                url=loc.get("url"),
            )
        if kind == "contacts":
            cards = spec if isinstance(spec, list) else []
            if not cards:
                raise invalid_param("Param contacts must be a non-empty list of contact cards.")
            return P.contacts(common, cards)
        if kind == "interactive":
            obj = spec if isinstance(spec, dict) else {}
            itype = obj.get("type", "button_reply")
            reply_raw = obj.get(itype)
            reply: JSON = reply_raw if isinstance(reply_raw, dict) else obj
            rid, title = reply.get("id"), reply.get("title")
            if not rid or not title:
                raise invalid_param("Param interactive needs id and title of the reply.")
            if "context" not in common:
                last = self._last_sent(number, user.wa_id, "interactive")
                if last is not None:
                    common = {
                        "context": P.reply_context(
                            business_display_number=number.display_phone_number, wamid=last.wamid
                        ),
                        **common,
                    }
            if itype == "list_reply":
                return P.list_reply(common, reply_id=str(rid), title=str(title), description=reply.get("description"))
            if itype != "button_reply":
                raise invalid_param("Param interactive.type must be button_reply or list_reply.")
            return P.button_reply(common, reply_id=str(rid), title=str(title))
        if kind == "button":
            obj = spec if isinstance(spec, dict) else {}
            text_ = obj.get("text")
            if not text_:
                raise invalid_param("Param button needs text (and payload).")
            if "context" not in common:
                last = self._last_sent(number, user.wa_id, "template")
                if last is not None:
                    common = {
                        "context": P.reply_context(
                            business_display_number=number.display_phone_number, wamid=last.wamid
                        ),
                        **common,
                    }
            return P.template_button(common, text_=str(text_), payload=str(obj.get("payload") or text_))
        if kind == "reaction":
            obj = spec if isinstance(spec, dict) else {}
            mid = obj.get("message_id") or body.get("reply_to")
            if not mid:
                raise invalid_param("Param reaction needs message_id.")
            common = {k: v for k, v in common.items() if k != "context"}
            return P.reaction(common, message_id=str(mid), emoji=str(obj.get("emoji", "")))
        # order
        obj = spec if isinstance(spec, dict) else {}
        items = obj.get("product_items")
        if not isinstance(items, list) or not items:
            raise invalid_param("Param order needs product_items.")
        return P.order(
            common, catalog_id=str(obj.get("catalog_id", "0")), text_=str(obj.get("text", "")), product_items=items
        )

    # ================================================================== views

    def messages_to(self, wa_id: str | None, phone_number_id: str | None = None) -> list[JSON]:
        out = [
            m
            for m in self.state.sent.values()
            if (wa_id is None or m.to == wa_id) and (phone_number_id is None or m.phone_number_id == phone_number_id)
        ]
        return [m.public() for m in sorted(out, key=lambda m: m.seq)]

    def thread(self, phone_number_id: str, wa_id: str) -> JSON:
        number = self.number(phone_number_id, "get")
        user = self.state.users.get(wa_id)
        now = self.clock.now()
        items: list[tuple[int, JSON]] = []
        for m in self.state.sent.values():
            if m.phone_number_id == phone_number_id and m.to == wa_id:
                items.append(
                    (
                        m.seq,
                        {
                            "dir": "out",
                            "wamid": m.wamid,
                            "type": m.type,
                            "status": m.status,
                            "timestamp": int(m.created_at),
                            "render": m.render,
                            "errors": next((s.errors for s in m.statuses if s.errors), None),
                        },
                    )
                )
        for i in self.state.inbound.values():
            if i.phone_number_id == phone_number_id and i.wa_id == wa_id:
                delivery = self.dispatcher.by_id.get(i.delivery_id or -1)
                delivered = delivery is not None and delivery.state == "delivered"
                items.append((i.seq, {"dir": "in", **i.public(delivered), "timestamp": int(i.created_at)}))
        items.sort(key=lambda p: p[0])
        typing_until = self.state.typing_until.get((phone_number_id, wa_id), 0.0)
        return {
            "version": self.version,
            "number": number.model_dump(),
            "user": user.public(now, phone_number_id) if user else None,
            "typing": typing_until > now,
            "items": [p[1] for p in items],
        }

    async def verify_callback(self) -> JSON:
        """Meta's verification handshake: GET the callback with hub.* params and check the echoed challenge."""
        challenge = str(self.rng.randrange(10**9, 10**10))
        params = {"hub.mode": "subscribe", "hub.verify_token": self.config.verify_token, "hub.challenge": challenge}
        self.ensure_started()
        client = self.dispatcher.client
        try:
            res = await client.get(self.config.callback_url, params=params, timeout=10.0)
        except httpx.HTTPError as exc:
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        ok = res.status_code == 200 and res.text.strip() == challenge
        return {"ok": ok, "status_code": res.status_code, "challenge": challenge, "body": res.text[:200]}

    def advance_clock(self, seconds: float) -> JSON:
        self.clock.advance(seconds)
        self.touch()
        return {"now": self.clock.now(), "offset": self.clock.offset}
