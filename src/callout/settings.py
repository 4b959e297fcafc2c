"""Callout's configuration: every setting, read once from `CALLOUT_*` environment variables.

No other module reads `os.environ`; they ask for `get_settings()`.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values people paste from examples; a key like this protects nothing.
PLACEHOLDER_KEYS = frozenset({"changethis", "change-me", "changeme", "secret", "example"})


class Settings(BaseSettings):
    """Callout's settings; see the README's Configuration section for each one."""

    model_config = SettingsConfigDict(env_prefix="CALLOUT_", extra="ignore")

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
    plan_ttl: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="Seconds a cached request plan is trusted before its version is checked.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    @model_validator(mode="after")
    def _refuse_placeholder_keys(self) -> "Settings":
        if self.secret_keys is None or self.environment == "development":
            return self
        for entry in self.secret_keys.get_secret_value().split(","):
            material = entry.rpartition(":")[2].strip().lower()
            if material in PLACEHOLDER_KEYS:
                raise ValueError(
                    "CALLOUT_SECRET_KEYS holds a placeholder key; generate one with "
                    "`callout keys generate` (placeholders are accepted only when "
                    "CALLOUT_ENVIRONMENT=development)"
                )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database to use: the configured URL, else SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'callout.db').resolve()}"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret-keys"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
