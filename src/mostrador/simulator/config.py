"""Configuration of the Cloud API simulator: business numbers, credentials and behaviours."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class SimNumber(BaseModel):
    """A business phone number registered in a simulated WhatsApp Business Account (WABA)."""

    model_config = ConfigDict(frozen=True)

    phone_number_id: str
    display_phone_number: str
    waba_id: str
    verified_name: str = "Mostrador Demo"
    throughput_mps: int = Field(default=80, ge=1)


class StatusDelays(BaseModel):
    """Seconds to wait before each status webhook, counted from the previous step."""

    sent: float = Field(default=0.05, ge=0)
    delivered: float = Field(default=0.5, ge=0)
    read: float = Field(default=2.0, ge=0)


class ReviewRule(BaseModel):
    """A template review rule: when ``pattern`` (a regex) matches, the template is rejected with ``reason``."""

    pattern: str
    field: Literal["name", "body", "any"] = "any"
    reason: str = "INVALID_FORMAT"
    recommendation: str = "Review the content and submit the template again."


def _default_review_rules() -> list[ReviewRule]:
    return [
        ReviewRule(pattern=r"(?i)\b(scam|casino|estafa|apuestas)\b", reason="SCAM"),
        ReviewRule(pattern=r"^reject_", field="name", reason="INVALID_FORMAT"),
    ]


class Behaviours(BaseModel):
    """What the simulator does; all of it can be changed at run time with ``POST /_sim/config``."""

    model_config = ConfigDict(validate_assignment=True)

    # status sequence
    status_delays: StatusDelays = Field(default_factory=StatusDelays)
    deliver_probability: float = Field(default=1.0, ge=0, le=1)
    read_probability: float = Field(default=0.9, ge=0, le=1)
    failure_rate: float = Field(default=0.0, ge=0, le=1)
    failure_code: int = 131026
    # synchronous Graph errors injected at random (transient server errors)
    send_error_rate: float = Field(default=0.0, ge=0, le=1)
    send_error_code: int = 131000
    # policies
    enforce_window: bool = True
    throughput_mps: int | None = Field(default=None, ge=1)  # overrides every number's own throughput
    pair_rate_per_s: float = Field(default=1 / 6, gt=0)
    pair_rate_burst: int = Field(default=45, ge=1)
    messaging_limit: int | None = Field(default=250, ge=1)  # unique users outside the window / 24 h; None=unlimited
    undeliverable_numbers: list[str] = Field(default_factory=list)
    # webhook delivery faults
    webhook_delay_s: float = Field(default=0.0, ge=0)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    reorder_rate: float = Field(default=0.0, ge=0, le=1)
    drop_rate: float = Field(default=0.0, ge=0, le=1)
    callback_timeout_s: float = Field(default=10.0, gt=0)
    retry_max_attempts: int = Field(default=8, ge=1, le=50)
    retry_backoff_s: float = Field(default=1.0, ge=0)
    retry_backoff_factor: float = Field(default=2.0, ge=1)
    retry_max_backoff_s: float = Field(default=300.0, ge=0)
    delivery_concurrency: int = Field(default=8, ge=1, le=256)
    # template review
    template_review_delay_s: float = Field(default=1.0, ge=0)
    template_review_rules: list[ReviewRule] = Field(default_factory=_default_review_rules)
    # media
    media_url_ttl_s: float = Field(default=300.0, gt=0)

    @field_validator("status_delays", mode="before")
    @classmethod
    def _number_means_all(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"sent": value, "delivered": value, "read": value}
        return value


BEHAVIOUR_FIELDS: frozenset[str] = frozenset(Behaviours.model_fields)


class SimulatorConfig(BaseModel):
    """Everything needed to run a simulator.

    Behaviour fields may also be given at the top level (``SimulatorConfig(status_delays=0, ...)``);
    they are moved into ``behaviours``.
    """

    callback_url: str = "http://127.0.0.1:8000/webhooks/whatsapp"
    app_secret: str = "sim-app-secret"  # noqa: S105 - sandbox defaults, override in real use
    access_token: str = "sim-access-token"  # noqa: S105
    verify_token: str = "sim-verify-token"  # noqa: S105
    numbers: list[SimNumber] = Field(
        default_factory=lambda: [
            SimNumber(phone_number_id="100000000000001", display_phone_number="15550001111", waba_id="200000000000001")
        ]
    )
    api_version: str = "v26.0"
    public_base_url: str = "http://127.0.0.1:8001"
    seed: int | None = 1234
    behaviours: Behaviours = Field(default_factory=Behaviours)

    @model_validator(mode="before")
    @classmethod
    def _hoist_behaviours(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        moved = {k: v for k, v in data.items() if k in BEHAVIOUR_FIELDS}
        if not moved:
            return data
        rest = {k: v for k, v in data.items() if k not in BEHAVIOUR_FIELDS}
        base = rest.get("behaviours")
        merged: dict[str, Any]
        if isinstance(base, Behaviours):
            merged = base.model_dump()
        elif isinstance(base, dict):
            merged = dict(base)
        else:
            merged = {}
        merged.update(moved)
        rest["behaviours"] = merged
        return rest

    @field_validator("public_base_url", "callback_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/") if value.endswith("/") and value.count("/") > 2 else value

    @property
    def status_delays(self) -> StatusDelays:
        return self.behaviours.status_delays

    def number(self, phone_number_id: str) -> SimNumber | None:
        for n in self.numbers:
            if n.phone_number_id == phone_number_id:
                return n
        return None
