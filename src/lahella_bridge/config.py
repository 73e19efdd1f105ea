"""Settings: the only place that reads environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_UPSTREAM_URL = "https://hallinta.lahella.fi"
DEFAULT_PTV_URL = "https://api.palvelutietovaranto.suomi.fi/api/v11"
# The 30 municipalities of Pohjois-Pohjanmaa (PTV code list, see taxonomy/data).
POHJOIS_POHJANMAA = (
    "009,069,071,072,139,208,244,305,317,425,436,483,494,535,563,564,615,625,626,630,"
    "678,691,746,748,785,791,832,859,889,977"
)
# The admin key of deploy/k8s/secret.example.yaml: copied as it is, it would be a key
# everyone who read the repository knows.
EXAMPLE_ADMIN_API_KEY = "CHANGE-ME-to-a-random-key-of-32-characters-or-more"
MIN_ADMIN_API_KEY_LENGTH = 32
NEW_KEY_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(32))' makes one"


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
    data_dir: Path = Field(default=Path("data"), description="The embedded database.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    admin_api_key: SecretStr | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins that may also read the OpenAPI document and health from browsers; "
        "the feeds are open to every origin, the admin endpoints to none.",
    )
    public_base_url: str | None = Field(
        default=None,
        description="The service's public origin (https://host[:port]) that absolute links "
        "are built on; unset: the request's own Host, if it is one of allowed_hosts.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "[::1]", "testserver"],
        description="Hosts links may be built from when public_base_url is unset; "
        "a request for any other Host is refused (400).",
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
    upstream_deadline_s: float = Field(
        default=120.0, gt=0, description="Overall limit on one upstream request, body included."
    )
    upstream_max_response_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="Largest upstream response accepted."
    )
    upstream_retry_after_max_s: float = Field(
        default=120.0, ge=0, description="Longest Retry-After waited before retrying a 429."
    )

    lahella_enabled: bool = Field(default=True, description="Harvest Lähellä.fi.")
    ptv_enabled: bool = Field(default=False, description="Harvest the open PTV API too.")
    ptv_url: str = DEFAULT_PTV_URL
    ptv_areas: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: POHJOIS_POHJANMAA.split(","),
        description="Municipality codes whose PTV services are harvested.",
    )
    ptv_batch_size: int = Field(default=20, ge=1, le=100, description="Ids per list?guids=.")
    ptv_full_sweep_hours: float = Field(
        default=24, gt=0, description="Between full PTV sweeps; incremental syncs in between."
    )

    statement_timeout_ms: int = Field(
        default=10_000,
        ge=1,
        description="Longest a request's query may run; the harvest has no such limit.",
    )

    harvest_interval_minutes: int = Field(default=60, ge=0, description="0 switches it off.")
    harvest_on_start: bool = True
    harvest_retire_brake: float = Field(default=0.20, ge=0, le=1)
    harvest_mapping_workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Worker processes that map harvested records; 0 or 1 maps them in a "
        "thread of the harvesting process. On 2 cores workers cost more CPU than they "
        "free (records are pickled both ways): for machines with cores to spare.",
    )

    @field_validator("cors_origins", "allowed_hosts", "upstream_groups", "ptv_areas", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("ptv_areas")
    @classmethod
    def _municipality_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not (len(code) == 3 and code.isdigit())]
        if bad:
            raise ValueError(f"municipality codes are three digits, not {', '.join(bad)}")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql", "postgres")):
            raise ValueError("must be a PostgreSQL URL (postgresql://user:pass@host/db)")
        return value

    @field_validator("admin_api_key")
    @classmethod
    def _strong_admin_key(cls, value: SecretStr | None) -> SecretStr | None:
        """A guessable key would open the admin endpoints to anyone; empty means unset."""
        if value is None or not value.get_secret_value():
            return None
        key = value.get_secret_value()
        if key == EXAMPLE_ADMIN_API_KEY:
            raise ValueError(f"is the example's key, not a secret; {NEW_KEY_HINT}")
        if len(key) < MIN_ADMIN_API_KEY_LENGTH:
            raise ValueError(
                f"must be at least {MIN_ADMIN_API_KEY_LENGTH} characters, not {len(key)}; "
                + NEW_KEY_HINT
            )
        return value

    @field_validator("public_base_url")
    @classmethod
    def _origin_only(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL, e.g. https://tapahtumat.pohde.fi")
        if parts.path or parts.query or parts.fragment:
            raise ValueError("must be an origin only (scheme, host and port), without a path")
        return f"{parts.scheme}://{parts.netloc}"


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
