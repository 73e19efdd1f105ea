"""Settings: the only place that reads environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_UPSTREAM_URL = "https://hallinta.lahella.fi"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of the service; env prefix `LAHELLA_BRIDGE_`."""

    model_config = SettingsConfigDict(env_prefix="LAHELLA_BRIDGE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; unset means an embedded PostgreSQL in data_dir.",
    )
    data_dir: Path = Field(default=Path("data"), description="Embedded database and state.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    admin_api_key: SecretStr | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    public_base_url: str | None = Field(
        default=None,
        description="Absolute base URL for links in feeds; defaults to the request's own.",
    )

    upstream_url: str = DEFAULT_UPSTREAM_URL
    upstream_cookies: SecretStr | None = None
    upstream_groups: Annotated[list[str], NoDecode] = Field(default_factory=list)
    upstream_page_size: int = Field(default=100, ge=1, le=1000)
    upstream_headers: dict[str, str] = Field(
        default_factory=dict, description="Extra headers, e.g. a partner key, as JSON."
    )
    upstream_timeout_s: float = Field(default=30.0, gt=0)
    upstream_max_retries: int = Field(default=5, ge=0, le=20)

    harvest_interval_minutes: int = Field(default=60, ge=0, description="0 switches it off.")
    harvest_on_start: bool = True
    harvest_retire_brake: float = Field(default=0.20, ge=0, le=1)

    @field_validator("cors_origins", "upstream_groups", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql", "postgres")):
            raise ValueError("must be a PostgreSQL URL (postgresql://user:pass@host/db)")
        return value

    @property
    def cookie_store(self) -> Path:
        """Where refreshed upstream cookies are kept so they survive a restart."""
        return self.data_dir / "upstream-cookies.json"


class SettingsError(Exception):
    """Settings that cannot be used, explained one line per field."""


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's error into one readable line per field."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            lines.append(f"LAHELLA_BRIDGE_{field.upper()}: {error['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
