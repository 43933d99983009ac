"""Settings: one typed class, read from `QUANTDESK_*` environment variables and `.env`.

Production refuses to start on settings that are only safe on a laptop; `Settings.problems()`
names each offending setting so the operator knows exactly what to change.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "insecure-development-secret-change-me"  # noqa: S105 (the point is to reject it)
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/quantdesk.db"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class ConfigError(RuntimeError):
    """Settings that must not be used in the current environment."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="QUANTDESK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    # NoDecode: accept a plain comma-separated list in the environment, not only JSON.
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:8000", "http://127.0.0.1:8000"]
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    # HOST / PORT are the conventional un-prefixed names (make run, containers, PaaS).
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("QUANTDESK_HOST", "HOST"))
    port: int = Field(default=8000, validation_alias=AliasChoices("QUANTDESK_PORT", "PORT"))
    docs_enabled: bool = True
    # Largest `limit` one /bars request may ask for (one symbol's 100k bars fit in one page).
    bars_max_limit: int = 100_000
    bars_default_limit: int = 5_000
    page_max_limit: int = 500

    # Access (auth/). Signing and pepper secrets are derived from secret_key unless set.
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    jwt_issuer: str = "quantdesk"
    jwt_audience: str = "quantdesk-api"
    # {"kid": "secret"}: the active kid signs, every listed key verifies (rotation).
    jwt_keys: dict[str, SecretStr] = Field(default_factory=dict)
    jwt_active_kid: str | None = None
    api_key_pepper: SecretStr | None = None
    password_reset_ttl_minutes: int = 30
    # Failed logins allowed per account and per client IP within the window.
    login_failures_per_account: int = 5
    login_failures_per_ip: int = 20
    login_failure_window_seconds: int = 900
    # Proxies whose X-Forwarded-For is believed (CIDRs); empty means use the peer address.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Password-reset mail: "file" writes .eml files into mail_dir, "smtp" sends them.
    mail_backend: Literal["file", "smtp"] = "file"
    mail_dir: Path = Path("var/mail")
    mail_from: str = "quantdesk@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    public_base_url: str = "http://127.0.0.1:8000"

    # Rate limits (ratelimit/): `limits` strings per role tier; "unlimited" turns a tier off.
    rate_limit_enabled: bool = True
    rate_limit_guest: str = "60/minute"
    rate_limit_user: str = "100/minute"
    rate_limit_premium: str = "1000/minute"
    rate_limit_analyst: str = "1000/minute"
    rate_limit_admin: str = "unlimited"
    # Overrides of named endpoint policies, e.g. {"signals-refresh": "10 per 5 minutes"}.
    rate_limit_policies: dict[str, str] = Field(default_factory=dict)
    rate_limit_redis_retry_seconds: float = 5.0
    rate_limit_redis_timeout_seconds: float = 0.5
    ip_blocklist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    abuse_429_threshold: int = 20
    abuse_window_seconds: int = 60
    abuse_block_seconds: int = 900

    # Request limits (http/limits.py) and the hosts served in production (TrustedHost).
    # How long a verified API key is trusted from process memory (quantdesk.auth.key_cache):
    # revocations reach other replicas within this time. 0 checks the database every request.
    api_key_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    max_request_body_bytes: int = 1_048_576
    max_json_depth: int = 32
    max_json_array_length: int = 10_000
    # "*.example.com" allows subdomains; production refuses every other Host header.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1"]
    )

    @field_validator(
        "cors_origins", "trusted_proxies", "allowed_hosts", "ip_blocklist", mode="before"
    )
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                import json

                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    def sqlite_path(self) -> Path | None:
        """The database file for a SQLite URL (None for in-memory or other databases)."""
        if not self.is_sqlite:
            return None
        _, _, path = self.database_url.partition(":///")
        if not path or path.startswith(":memory:"):
            return None
        return Path(path.split("?", 1)[0])

    def problems(self) -> list[str]:
        """Why these settings must not run in this environment (empty when they may)."""
        if self.environment is not Environment.PRODUCTION:
            return []
        found: list[str] = []
        secret = self.secret_key.get_secret_value()
        if secret == DEFAULT_SECRET_KEY or len(secret) < 32:
            found.append(
                "QUANTDESK_SECRET_KEY: set a random secret of at least 32 characters "
                "(the built-in default is public)"
            )
        if any(origin.strip() == "*" for origin in self.cors_origins):
            found.append(
                "QUANTDESK_CORS_ORIGINS: a wildcard '*' origin is not allowed in production"
            )
        if any(host.strip() == "*" for host in self.allowed_hosts):
            found.append(
                "QUANTDESK_ALLOWED_HOSTS: a wildcard '*' host is not allowed in production"
            )
        if self.is_sqlite:
            found.append(
                "QUANTDESK_DATABASE_URL: SQLite is for development; use "
                "postgresql+asyncpg://user:password@host/db in production"
            )
        return found

    def check(self) -> None:
        """Raise ConfigError naming every setting that is wrong for this environment."""
        found = self.problems()
        if found:
            lines = "\n".join(f"  - {problem}" for problem in found)
            raise ConfigError(
                f"refusing to start in {self.environment.value} with unsafe settings:\n{lines}"
            )


@lru_cache
def get_settings() -> Settings:
    return Settings()
