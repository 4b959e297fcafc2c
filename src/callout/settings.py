"""Callout's configuration: every setting, read once from `CALLOUT_*` environment variables.

No other module reads `os.environ`; they ask for `get_settings()`.
"""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from callout.db.crypto import KeyMaterialError, KeySource, parse_keys
from callout.runtime import guard

# The source tree's web/dist, beside src/: where `make web` builds the UI.
BUILT_UI = Path(__file__).resolve().parents[2] / "web" / "dist"


class Settings(BaseSettings):
    """Callout's settings; see the README's Configuration section for each one."""

    # Inputs stay out of error texts: CALLOUT_SECRET_KEYS is an input.
    model_config = SettingsConfigDict(
        env_prefix="CALLOUT_", extra="ignore", hide_input_in_errors=True
    )

    environment: Literal["development", "production"] = "production"
    data_dir: Path = Path(".callout")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; unset means one SQLite file in the data dir.",
    )
    secret_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated `key_id:base64(32 bytes)`; the first encrypts. "
        "Unset means the key file in the data dir, created on first run.",
    )
    access_ttl: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="Seconds a resolved API key and client are trusted before they are read again "
        "(a change in the same process takes effect at once).",
    )
    plan_ttl: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Seconds a cached request plan is trusted before its version is checked.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis (redis://, rediss:// or unix://) through which every process hears "
        "what the others' commits changed and drops the plans, designers and keys it made "
        "stale at once, and shares circuit breakers and the per-client cap; unset means each "
        "process checks them after plan_ttl and access_ttl, and keeps its own.",
    )
    redis_namespace: str = Field(
        default="callout",
        min_length=1,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="The prefix of every key and channel the processes of one installation "
        "share on Redis (installations sharing a Redis need different ones).",
    )
    public_url: str | None = Field(
        default=None,
        description="Callout's address as browsers reach it, for OAuth 2.0 redirects; "
        "unset means http://HOST:PORT.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    outbound_allow: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated CIDRs, addresses or host names that outbound calls may "
        "reach although they are not globally routable (on-premises systems).",
    )
    max_request_body: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=256 * 1024 * 1024,
        description="Bytes a request body may hold; a larger one is refused with 413.",
    )
    max_import_body: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        le=256 * 1024 * 1024,
        description="Bytes the body of an import (a whole file) may hold.",
    )
    outbound_connect_timeout: float = Field(default=3.0, gt=0, le=60)
    outbound_max_body: int = Field(default=5 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    outbound_ca_file: Path | None = Field(
        default=None, description="PEM file of CAs to trust; unset means the system store."
    )
    client_max_in_flight: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="Calls one client may have in flight: in this process, or in all of them "
        "with redis_url.",
    )
    fire_deadline: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Seconds a designer event's fire may take at most, whatever its calls' "
        "own deadlines add up to.",
    )
    history_days: int = Field(
        default=30, ge=1, le=3650, description="Days an invocation stays in the history."
    )
    history_rows: int = Field(
        default=100_000,
        ge=100,
        le=100_000_000,
        description="Invocations kept per client; the oldest beyond this are removed.",
    )
    history_flush_seconds: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="Seconds between writes of the invocations a process has buffered.",
    )
    ui_dir: Path = Field(
        default=BUILT_UI,
        description="The built web UI served at /; without an index.html there, / redirects "
        "to /docs.",
    )
    metrics_dir: Path | None = Field(
        default=None,
        validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="Where worker processes keep their Prometheus counts; `callout serve` "
        "sets it, fresh for each run. Unset means each process answers its own.",
    )

    @field_validator("outbound_allow", mode="before")
    @classmethod
    def _allow_entries(cls, value: object) -> object:
        """Each entry a CIDR, an address or a host name; a typo fails at start-up."""
        if isinstance(value, str):
            value = tuple(entry.strip() for entry in value.split(",") if entry.strip())
        if isinstance(value, list | tuple):
            for entry in value:
                guard.check_entry(str(entry))
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        """A typo fails at start-up, not as a Redis lost for ever."""
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @model_validator(mode="after")
    def _keys_parse(self) -> "Settings":
        """Bad key material fails at start-up, not on the first secret written."""
        try:
            self._given_keys()
        except KeyMaterialError as error:
            raise ValueError(str(error)) from None
        return self

    def _given_keys(self) -> list[tuple[str, bytes]] | None:
        """CALLOUT_SECRET_KEYS parsed, or None when unset (the key file holds the keys)."""
        if self.secret_keys is None:
            return None
        return parse_keys(
            self.secret_keys.get_secret_value(),
            "CALLOUT_SECRET_KEYS",
            allow_placeholders=self.environment == "development",
        )

    @property
    def resolved_database_url(self) -> str:
        """The database to use: the configured URL, else SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'callout.db').resolve()}"

    @property
    def oauth_callback(self) -> str:
        """Where an OAuth 2.0 provider sends the browser back after an authorization."""
        base = (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
        return f"{base}/api/v1/oauth/callback"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret-keys"

    def key_source(self, *, create: bool = False) -> KeySource:
        """Where the keys that seal secrets come from: CALLOUT_SECRET_KEYS, else the key file
        (`create`: made on first use, as `callout init` does)."""
        return KeySource(self.key_file, self._given_keys(), create=create)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
