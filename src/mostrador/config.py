"""Settings: every knob is a ``MOSTRADOR_*`` environment variable (also read from ``.env``)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOSTRADOR_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    var_dir: Path = DEFAULT_VAR_DIR
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = ""
    secret_key: str = ""
    redis_url: str | None = None
    queue_namespace: str = Field(default="mostrador", pattern=r"^[A-Za-z0-9_.:-]+$")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False

    # Development defaults; production refuses them (see _no_dev_secrets_in_production).
    wa_app_secret: str = "dev-app-secret"  # noqa: S105
    wa_verify_token: str = "dev-verify-token"  # noqa: S105
    wa_graph_url: str = "https://graph.facebook.com"
    wa_api_version: str = "v26.0"
    wa_webhook_max_bytes: int = Field(default=3 * 1024 * 1024, ge=1024)
    wa_throughput_mps: float = Field(default=80.0, gt=0, le=1000)
    wa_pair_rate_interval_s: float = Field(default=6.0, gt=0)

    media_dir: Path | None = None
    media_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)

    # Embedded mode: jobs run in the web process. While HTTP requests are in flight they get at most this
    # share of the event loop, so a burst of webhooks is acknowledged first and processed right after.
    worker_concurrency: int = Field(default=16, ge=1, le=256)
    # Transactional jobs in flight at once, in the embedded runner and per `mostrador worker` (worker/gates.py).
    # A few keep the database busy; more take doorbells out of the queue before they could merge into one batch,
    # and interleaved on one event loop each holds its transaction longer (bench/realtime_latency.py).
    worker_writers: int = Field(default=2, ge=1, le=64)
    # Embedded runner, while requests are in flight: the share of the event loop jobs may use — background
    # queues (receipts, sync) and live ones (customer messages, agents' sends). bench/realtime_latency.py: since
    # the intake got cheaper, live jobs never yielding (1.0) keeps an unpaced flood's p99 near 100 ms while the
    # intake still acknowledges about 1,300 webhooks/s; 0.7 let it take 2,500/s and left agents 5 s behind.
    worker_busy_share: float = Field(default=0.3, gt=0, le=1)
    worker_live_share: float = Field(default=1.0, gt=0, le=1)
    sweeper_interval_s: float = Field(default=15.0, gt=0)
    sweeper_stale_after_s: float = Field(default=30.0, gt=0)
    session_max_age_s: int = Field(default=14 * 24 * 3600, gt=0)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://", "postgresql://")):
            raise ValueError("expected sqlite+aiosqlite:///path/to.db or postgresql+asyncpg://user@host:port/db")
        if value.startswith("postgresql://"):
            value = "postgresql+asyncpg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value == "":
            return None
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:port/db")
        return value

    @model_validator(mode="after")
    def _no_dev_secrets_in_production(self) -> Settings:
        if self.env == "production":
            for name in ("wa_app_secret", "wa_verify_token"):
                if getattr(self, name).startswith("dev-"):
                    raise ValueError(f"MOSTRADOR_{name.upper()} must be set to your Meta app's value in production")
            if not self.secret_key:
                raise ValueError("MOSTRADOR_SECRET_KEY must be set in production")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.var_dir / 'mostrador.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def distributed(self) -> bool:
        return self.redis_url is not None

    @property
    def resolved_media_dir(self) -> Path:
        return self.media_dir or self.var_dir / "media"

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def resolved_secret_key(self) -> str:
        """The configured key, or one persisted under ``var/`` so sessions survive restarts in development."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


class SettingsError(Exception):
    """Invalid configuration, rendered as one line naming the variable."""


def describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        name = "MOSTRADOR_" + "_".join(str(p) for p in item["loc"]).upper()
        parts.append(f"{name}: {item['msg']}")
    return "invalid settings: " + "; ".join(parts)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
