"""Settings: environment parsing and the production guards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.app import create_app
from quantdesk.cli import app as cli
from quantdesk.config import ConfigError, Settings, get_settings

SAFE_PRODUCTION = {
    "QUANTDESK_ENVIRONMENT": "production",
    "QUANTDESK_SECRET_KEY": "x" * 48,
    "QUANTDESK_CORS_ORIGINS": "https://desk.example,https://ops.example",
    "QUANTDESK_DATABASE_URL": "postgresql+asyncpg://quant@db.internal/quantdesk",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for key in SAFE_PRODUCTION:
        monkeypatch.delenv(key, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_environment_variables_are_read(env: pytest.MonkeyPatch) -> None:
    for key, value in SAFE_PRODUCTION.items():
        env.setenv(key, value)
    env.setenv("QUANTDESK_LOG_LEVEL", "debug")
    env.setenv("PORT", "9001")
    env.setenv("HOST", "0.0.0.0")
    settings = Settings(_env_file=None)
    assert settings.cors_origins == ["https://desk.example", "https://ops.example"]
    assert settings.log_level == "DEBUG" and settings.port == 9001 and settings.host == "0.0.0.0"
    assert settings.problems() == []


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"QUANTDESK_SECRET_KEY": None}, "QUANTDESK_SECRET_KEY"),
        ({"QUANTDESK_SECRET_KEY": "short"}, "QUANTDESK_SECRET_KEY"),
        ({"QUANTDESK_CORS_ORIGINS": "https://a.example,*"}, "QUANTDESK_CORS_ORIGINS"),
        ({"QUANTDESK_DATABASE_URL": "sqlite+aiosqlite:///./var/prod.db"}, "QUANTDESK_DATABASE_URL"),
    ],
)
def test_production_refuses_unsafe_settings_and_names_them(
    env: pytest.MonkeyPatch, override: dict[str, str | None], named: str
) -> None:
    for key, value in {**SAFE_PRODUCTION, **override}.items():
        if value is None:
            env.delenv(key, raising=False)
        else:
            env.setenv(key, value)
    settings = Settings(_env_file=None)
    problems = settings.problems()
    assert len(problems) == 1 and problems[0].startswith(named)
    with pytest.raises(ConfigError, match=named):
        create_app(settings)

    # `serve` exports these for its workers; set here, monkeypatch restores them afterwards.
    env.setenv("QUANTDESK_JOBS_SCHEDULER_ENABLED", "false")
    env.setenv("QUANTDESK_MONITOR_ENABLED", "false")
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert named in result.output


def test_development_defaults_are_allowed(env: pytest.MonkeyPatch) -> None:
    settings = Settings(_env_file=None)
    assert settings.environment == "development" and settings.is_sqlite
    assert settings.problems() == []
    assert str(settings.sqlite_path()) == "var/quantdesk.db"


def test_env_file_is_read(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("QUANTDESK_LOG_LEVEL=WARNING\nQUANTDESK_REDIS_URL=redis://127.0.0.1:6390/0\n")
    settings = Settings(_env_file=dotenv)
    assert settings.log_level == "WARNING" and settings.redis_url == "redis://127.0.0.1:6390/0"


def test_no_settings_mixin_validator_is_shadowed_by_another() -> None:
    """Settings inherits one attribute per name: two mixins with a validator method of the same
    name keep only one of them (news and webhooks both had `_split`, and the webhooks lists
    were silently no longer split)."""
    merged = Settings.__pydantic_decorators__.field_validators
    for mixin in Settings.__mro__[1:]:
        decorators = getattr(mixin, "__pydantic_decorators__", None)
        if decorators is None or mixin.__module__.startswith("pydantic"):
            continue
        for name, validator in decorators.field_validators.items():
            kept, own = merged[name].func, validator.func
            assert getattr(kept, "__func__", kept) is getattr(own, "__func__", own), (
                f"{mixin.__name__}.{name} is shadowed"
            )
