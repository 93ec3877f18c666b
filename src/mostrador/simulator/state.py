"""In-memory state of a simulator: users, sent and received messages, media, templates, webhook deliveries."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from .config import SimNumber

JSON = dict[str, Any]

WINDOW_S = 24 * 3600


class SimClock:
    """Wall-clock time plus an offset that tests and the control API can advance."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def timestamp(self) -> int:
        return int(self.now())

    def advance(self, seconds: float) -> float:
        self.offset += seconds
        return self.now()

    def reset(self) -> None:
        self.offset = 0.0


# E.164 calling code -> ISO country (the BSUID prefix); longest prefix wins.
_CALLING_CODES = {
    "1": "US",
    "52": "MX",
    "54": "AR",
    "55": "BR",
    "56": "CL",
    "57": "CO",
    "58": "VE",
    "51": "PE",
    "53": "CU",
    "34": "ES",
    "351": "PT",
    "593": "EC",
    "591": "BO",
    "595": "PY",
    "598": "UY",
    "502": "GT",
    "503": "SV",
    "504": "HN",
    "505": "NI",
    "506": "CR",
    "507": "PA",
    "44": "GB",
    "49": "DE",
    "33": "FR",
    "39": "IT",
    "91": "IN",
    "972": "IL",
    "971": "AE",
}


def country_of(wa_id: str) -> str:
    for length in (3, 2, 1):
        cc = _CALLING_CODES.get(wa_id[:length])
        if cc:
            return cc
    return "US"


def make_bsuid(wa_id: str, waba_id: str) -> str:
    """A business-scoped user id like ``US.13491208655302741918`` (stable per user and business)."""
    digest = hashlib.sha256(f"{waba_id}:{wa_id}".encode()).digest()
    digits = str(int.from_bytes(digest[:9], "big")).rjust(20, "0")[:20]
    return f"{country_of(wa_id)}.{digits}"


def make_parent_bsuid(wa_id: str) -> str:
    """The parent (portfolio-level) business-scoped user id, like ``US.ENT.11815799212886844830``."""
    digest = hashlib.sha256(f"portfolio:{wa_id}".encode()).digest()
    digits = str(int.from_bytes(digest[:9], "big")).rjust(20, "0")[:20]
    return f"{country_of(wa_id)}.ENT.{digits}"


@dataclass
class SimUser:
    wa_id: str
    name: str
    user_id: str
    parent_user_id: str = ""
    username: str | None = None
    created_at: float = 0.0
    last_inbound: dict[str, float] = dc_field(default_factory=dict)  # phone_number_id -> time of last message
    marketing_opt_out: bool = False

    def window_open(self, phone_number_id: str, now: float) -> bool:
        last = self.last_inbound.get(phone_number_id)
        return last is not None and now - last < WINDOW_S

    def window_expires_at(self, phone_number_id: str) -> float | None:
        last = self.last_inbound.get(phone_number_id)
        return None if last is None else last + WINDOW_S

    def public(self, now: float, phone_number_id: str | None = None) -> JSON:
        out: JSON = {
            "wa_id": self.wa_id,
            "name": self.name,
            "user_id": self.user_id,
            "parent_user_id": self.parent_user_id,
            "username": self.username,
            "marketing_opt_out": self.marketing_opt_out,
            "last_inbound": dict(self.last_inbound),
        }
        if phone_number_id is not None:
            out["window_open"] = self.window_open(phone_number_id, now)
            out["window_expires_at"] = self.window_expires_at(phone_number_id)
        return out


@dataclass
class StatusEvent:
    status: str
    timestamp: int
    errors: list[JSON] | None = None

    def public(self) -> JSON:
        out: JSON = {"status": self.status, "timestamp": self.timestamp}
        if self.errors:
            out["errors"] = self.errors
        return out


_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


@dataclass
class SentMessage:
    """A message the business sent (``POST /messages``) and what the simulator reported about it."""

    seq: int
    wamid: str
    phone_number_id: str
    to: str
    user_id: str
    to_bsuid: bool
    type: str
    request: JSON
    created_at: float
    category: str  # pricing category: service, utility, marketing, authentication
    pricing_type: str  # regular / free_customer_service
    render: JSON = dc_field(default_factory=dict)  # what the phone shows (hydrated template, buttons, rows)
    statuses: list[StatusEvent] = dc_field(default_factory=list)
    planned_failure: JSON | None = None

    @property
    def status(self) -> str:
        best = "accepted"
        for ev in self.statuses:
            if _RANK[ev.status] > _RANK[best]:
                best = ev.status
        return best

    def public(self) -> JSON:
        return {
            "wamid": self.wamid,
            "phone_number_id": self.phone_number_id,
            "to": self.to,
            "user_id": self.user_id,
            "type": self.type,
            "request": self.request,
            "render": self.render,
            "created_at": self.created_at,
            "category": self.category,
            "pricing_type": self.pricing_type,
            "status": self.status,
            "statuses": [s.public() for s in self.statuses],
        }


@dataclass
class InboundMessage:
    """A message a simulated user sent to the business."""

    seq: int
    wamid: str
    phone_number_id: str
    wa_id: str
    type: str
    message: JSON  # the webhook's messages[] item
    created_at: float
    delivery_id: int | None = None
    read: bool = False

    def public(self, delivered: bool) -> JSON:
        return {
            "wamid": self.wamid,
            "phone_number_id": self.phone_number_id,
            "from": self.wa_id,
            "type": self.type,
            "message": self.message,
            "created_at": self.created_at,
            "status": "read" if self.read else ("delivered" if delivered else "sent"),
        }


@dataclass
class MediaItem:
    id: str
    phone_number_id: str
    data: bytes
    mime_type: str
    sha256: str
    filename: str | None
    created_at: float
    uploaded_by: str  # "business" or "user"


@dataclass
class Template:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    components: list[JSON]
    parameter_format: str = "POSITIONAL"
    status: str = "PENDING"
    rejected_reason: str = "NONE"
    quality_score: str = "UNKNOWN"
    created_at: float = 0.0

    def public(self) -> JSON:
        out: JSON = {
            "name": self.name,
            "parameter_format": self.parameter_format,
            "components": self.components,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
        }
        if self.status == "REJECTED":
            out["rejected_reason"] = self.rejected_reason
        out["quality_score"] = {"score": self.quality_score}
        return out


@dataclass
class DeliveryAttempt:
    at: float
    status_code: int | None
    error: str | None
    duration_ms: float

    def public(self) -> JSON:
        return {
            "at": self.at,
            "status_code": self.status_code,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 2),
        }


@dataclass
class WebhookDelivery:
    id: int
    field: str
    summary: str
    body: bytes
    signature: str
    created_at: float
    state: str = "pending"  # pending, delivered, dropped, failed
    duplicate_of: int | None = None
    attempts: list[DeliveryAttempt] = dc_field(default_factory=list)
    next_attempt_at: float | None = None
    key: str = ""  # partition key: deliveries with the same key keep their order

    def public(self, *, with_body: bool = True) -> JSON:
        out: JSON = {
            "id": self.id,
            "field": self.field,
            "summary": self.summary,
            "state": self.state,
            "duplicate_of": self.duplicate_of,
            "created_at": self.created_at,
            "attempts": [a.public() for a in self.attempts],
            "signature": self.signature,
        }
        if with_body:
            out["body"] = json.loads(self.body)
        return out


@dataclass
class SimulatorState:
    """Everything the simulator remembers. Mutated only from the event loop that runs the simulator."""

    numbers: dict[str, SimNumber] = dc_field(default_factory=dict)
    users: dict[str, SimUser] = dc_field(default_factory=dict)  # wa_id -> user
    users_by_bsuid: dict[str, str] = dc_field(default_factory=dict)  # user_id -> wa_id
    sent: dict[str, SentMessage] = dc_field(default_factory=dict)  # wamid -> message
    inbound: dict[str, InboundMessage] = dc_field(default_factory=dict)  # wamid -> message
    media: dict[str, MediaItem] = dc_field(default_factory=dict)
    templates: dict[str, Template] = dc_field(default_factory=dict)  # id -> template
    deliveries: list[WebhookDelivery] = dc_field(default_factory=list)
    typing_until: dict[tuple[str, str], float] = dc_field(default_factory=dict)  # (phone id, wa_id) -> time
    # business-initiated reach per WABA: waba_id -> {wa_id: time of last template outside the window}
    reached: dict[str, dict[str, float]] = dc_field(default_factory=dict)
    seq: int = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def templates_of(self, waba_id: str) -> list[Template]:
        return [t for t in self.templates.values() if t.waba_id == waba_id]

    def find_template(self, waba_id: str, name: str, language: str) -> Template | None:
        for t in self.templates.values():
            if t.waba_id == waba_id and t.name == name and t.language == language:
                return t
        return None
