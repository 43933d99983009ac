"""Settings: one typed class, read from `QUANTDESK_*` environment variables and `.env`.

Production refuses to start on settings that are only safe on a laptop; `Settings.problems()`
names each offending setting so the operator knows exactly what to change.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from quantdesk.config.database import DatabaseSettings
from quantdesk.config.events import EventBusSettings
from quantdesk.config.exports import ExportSettings
from quantdesk.config.fx import FxSettings
from quantdesk.config.market import MarketSettings
from quantdesk.config.news import NewsSettings
from quantdesk.config.ops import MailSettings, MonitorSettings
from quantdesk.config.paper import PaperSettings
from quantdesk.config.realtime import RealtimeSettings
from quantdesk.config.research import ResearchSettings
from quantdesk.config.rules import (
    DEFAULT_DATABASE_URL,
    DEFAULT_SECRET_KEY,
    DEFAULT_THRESHOLDS,
    ConfigError,
    Environment,
    HtmlRateTable,
    check_lifetimes,
)
from quantdesk.config.sentiment import SentimentSettings
from quantdesk.config.webhooks import WebhookSettings


class Settings(
    BaseSettings,
    DatabaseSettings,
    EventBusSettings,
    ExportSettings,
    FxSettings,
    MailSettings,
    MarketSettings,
    MonitorSettings,
    NewsSettings,
    PaperSettings,
    RealtimeSettings,
    ResearchSettings,
    SentimentSettings,
    WebhookSettings,
):  # config/
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
    # gc.freeze() once started (quantdesk.app lifespan): a serving process's long-lived heap
    # is never rescanned. Off for processes that build many apps (the test suite).
    gc_freeze_at_startup: bool = True
    # Load/compile the engine's numba kernels on a background thread once started, so the
    # first indicator/backtest/signal request does not pay for it (quantdesk.infra.kernel_warmup).
    warm_kernels_at_startup: bool = True
    # Largest `limit` one /bars request may ask for (one symbol's 100k bars fit in one page).
    bars_max_limit: int = 100_000
    bars_default_limit: int = 5_000
    page_max_limit: int = 500
    # signals
    # /signals/historic (public) shows only signals created at least this long ago.
    signals_historic_delay_hours: int = 24
    # A signal lives this many bars of its timeframe after its source bar (market time:
    # it expires when its symbol's bars have advanced that far, never by the clock) ...
    signals_expiry_bars: int = Field(default=10, ge=1)
    # ... unless overridden per "strategy:timeframe", "strategy" or "timeframe", e.g.
    # {"1h": 24, "sma_cross:1d": 20} (the most specific key wins).
    signals_lifetime_bars: dict[str, int] = Field(default_factory=dict)
    # Bars read per instrument to compute signals (indicator warm-up included).
    signals_lookback_bars: int = 500
    # backtests
    # HTML/PNG reports written by `quantdesk backtest`.
    reports_dir: Path = Path("var/reports")
    # Most bars one run may read (a larger range fails with a clear error: narrow start/end).
    backtest_max_bars: int = 500_000
    # Largest fast x slow grid one sweep may ask for.
    backtest_max_sweep_combinations: int = 2_500
    # Most (symbol, pair) cells one sweep may ask for: symbols x fast < slow pairs.
    backtest_max_sweep_cells: int = 100_000
    # Work per sweep chunk, in pairs x bars (about 0.5 s of the compiled kernel at ~2.5 ns
    # per pair and bar); a symbol's grid is split into chunks of about this size.
    backtest_sweep_chunk_work: int = Field(default=200_000_000, ge=1)
    # Test only: each sweep chunk sleeps this long first (to catch one in flight).
    backtest_sweep_chunk_delay_seconds: float = Field(default=0.0, ge=0)
    # Runs computing at once per API process (each in a worker thread); the rest wait.
    backtest_max_concurrent_runs: int = 2

    # Access (auth/). Signing and pepper secrets are derived from secret_key unless set.
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    jwt_issuer: str = "quantdesk"
    jwt_audience: str = "quantdesk-api"
    # {"kid": "secret"}: the active kid signs, every listed key verifies (rotation).
    jwt_keys: dict[str, SecretStr] = Field(default_factory=dict)
    jwt_active_kid: str | None = None
    api_key_pepper: SecretStr | None = None
    # How long a verified API key is trusted from process memory (quantdesk.auth.key_cache):
    # revocations reach other replicas within this time. 0 checks the database every request.
    api_key_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    password_reset_ttl_minutes: int = 30
    # Failed sign-ins allowed within the window (auth/throttle.py): per account and client
    # address (then that pair is locked out), per client address across accounts, and per
    # account across addresses (softer: past it only addresses that already failed on the
    # account are refused, so nobody can lock the owner out from elsewhere).
    login_failures_per_account_ip: int = Field(default=5, ge=1)
    login_failures_per_ip: int = Field(default=20, ge=1)
    login_failures_per_account: int = Field(default=20, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    # Proxies whose X-Forwarded-For is believed (CIDRs); empty means use the peer address.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The externally visible base URL (scheme, host, port, path prefix) when served behind a
    # proxy; password-reset links use it. Unset, they use the base URL the request came to.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s?#]+$")

    # Rate limits (ratelimit/): `limits` strings per role tier; "unlimited" turns a tier off.
    rate_limit_enabled: bool = True
    rate_limit_guest: str = "60/minute"
    rate_limit_user: str = "100/minute"
    rate_limit_premium: str = "1000/minute"
    rate_limit_analyst: str = "1000/minute"
    rate_limit_admin: str = "unlimited"
    # Overrides of named endpoint policies, e.g. {"signals-refresh": "10 per 5 minutes"}.
    rate_limit_policies: dict[str, str] = Field(default_factory=dict)
    rate_limit_redis_retry_seconds: float = 2.0  # ratelimit/config.py: redis_retry_seconds
    rate_limit_redis_timeout_seconds: float = 0.5
    ip_blocklist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    abuse_429_threshold: int = 20
    abuse_window_seconds: int = 60
    abuse_block_seconds: int = 900

    # Request limits (http/limits.py) and the hosts served in production (TrustedHost).
    max_request_body_bytes: int = 1_048_576
    max_json_depth: int = 32
    max_json_array_length: int = 10_000
    # Request headers (http/edge.py, 431): one header's name and value, and all of them.
    max_request_header_bytes: int = Field(default=16_384, ge=1024)
    max_request_head_bytes: int = Field(default=32_768, ge=1024)
    # "*.example.com" allows subdomains; production refuses every other Host header.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1"]
    )

    # cache and metrics
    cache_enabled: bool = True
    # None: Redis when redis_url is set (shared by every replica), else process memory.
    cache_backend: Literal["memory", "redis"] | None = None
    # Per-process entry bound of the memory backend (least recently used entries go first).
    cache_max_entries: int = Field(default=50_000, ge=1)
    # Per-category overrides in seconds, e.g. {"quotes": 10} (names: infra/cache/categories.py).
    cache_ttl_seconds: dict[str, float] = Field(default_factory=dict)
    cache_stale_ttl_seconds: dict[str, float] = Field(default_factory=dict)
    metrics_enabled: bool = True
    # When set, GET /metrics needs `Authorization: Bearer <token>`; unset, it is public.
    metrics_token: SecretStr | None = None
    # When set, `Authorization: Bearer <token>` shows /health and /health/detailed in full
    # (as to an admin); anonymous callers see statuses only.
    monitoring_token: SecretStr | None = None
    # FastAPI's native OpenTelemetry instrumentation: off, it costs ~4 us a request (deploy/).
    opentelemetry_enabled: bool = False

    # jobs
    # Background jobs (jobs/): "inprocess" runs them inside `quantdesk serve`; "celery" sends
    # them through the Redis broker to `quantdesk worker` processes (`quantdesk beat` schedules).
    jobs_backend: Literal["inprocess", "celery"] = "inprocess"
    jobs_workers: int = Field(default=2, ge=1)
    jobs_queue_size: int = Field(default=1_000, ge=1)
    # Off unless `quantdesk serve` turns it on, so an app built in tests or scripts never fires
    # schedules by itself. QUANTDESK_JOBS_SCHEDULER_ENABLED=false keeps serve from scheduling.
    jobs_scheduler_enabled: bool = False
    jobs_timezone: str = "UTC"
    # Per-job cron overrides, e.g. {"fx.fetch_rates": "30 5 * * *"}; "off" disables a job.
    # Five fields, or six with seconds last ("* * * * * */5").
    jobs_schedule: dict[str, str] = Field(default_factory=dict)
    jobs_bars_interval_minutes: int = Field(default=15, ge=1, le=59)
    jobs_market_hours: str = "*"  # the cron hour field (in jobs_timezone) bars are fetched in
    # The cron day-of-week field: every day by default, because crypto trades every day (an
    # equity series just finds nothing new at the weekend); "1-5" for equities-only installs.
    jobs_market_days: str = "*"
    jobs_signals_after_bars: bool = True
    jobs_max_retries: int = Field(default=3, ge=0)
    jobs_retry_backoff_seconds: float = Field(default=2.0, gt=0)
    jobs_retry_backoff_max_seconds: float = Field(default=300.0, gt=0)
    jobs_shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    # Reference data (marketdata/reference/tasks.py), comma-separated in the environment:
    # fx.fetch_rates stores every rate the fx_rates chain publishes for each base currency;
    # economy.fetch_series stores each economic series id (FRED ids such as CPIAUCSL) and each
    # fund's NAVs. An empty list skips that part of the job.
    jobs_fx_bases: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["EUR", "USD"])
    jobs_economic_series: Annotated[list[str], NoDecode] = Field(default_factory=list)
    jobs_fund_navs: Annotated[list[str], NoDecode] = Field(default_factory=list)
    job_run_retention_days: int = Field(default=30, ge=1)
    provider_fetch_retention_days: int = Field(default=30, ge=1)
    quarantine_retention_days: int = Field(default=90, ge=1)
    alert_event_retention_days: int = Field(default=90, ge=1)  # the monitor's alert history
    celery_broker_url: str | None = None  # default: redis_url
    celery_result_backend: str | None = None  # default: the broker
    celery_queue: str = "quantdesk"
    # How long a task taken by a worker stays invisible to the others (the Redis broker's
    # visibility_timeout). A worker lost whole (host gone, SIGKILL of its main process) has its
    # task redelivered only after this; it must exceed the longest task, or a task still running
    # is handed to a second worker too (jobs apply once, so that only wastes work). A worker
    # whose pool process dies is redelivered at once (reject_on_worker_lost). Celery's default.
    celery_visibility_timeout_seconds: int = Field(default=3600, ge=5)
    celery_beat_schedule_file: Path = Path("var/celerybeat-schedule")

    # providers
    # Provider chain per data kind (docs/providers.md), tried in order and re-ranked by health:
    # csv, parquet, ecb, fred, polygon, rss, ccxt:<exchange id>, html:<table name>.
    # Comma-separated in the environment: QUANTDESK_PROVIDERS_BARS=ccxt:binance,csv
    providers_bars: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["csv"])
    providers_quotes: Annotated[list[str], NoDecode] = Field(default_factory=list)
    providers_fx_rates: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["ecb"])
    providers_fundamentals: Annotated[list[str], NoDecode] = Field(default_factory=list)
    providers_fund_navs: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["csv"])
    providers_economic_series: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["csv"]
    )
    providers_news: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Per attempt; retries only on timeouts, connection errors, 5xx and 429.
    providers_timeout_seconds: float = Field(default=10.0, gt=0)
    providers_retry_attempts: int = Field(default=3, ge=1)
    providers_backoff_initial_seconds: float = Field(default=0.5, ge=0)
    providers_backoff_max_seconds: float = Field(default=8.0, ge=0)
    providers_backoff_jitter_seconds: float = Field(default=0.5, ge=0)
    # A 429 asking to wait longer than this is not retried: the chain moves on.
    providers_retry_after_max_seconds: float = Field(default=30.0, ge=0)
    providers_breaker_failure_threshold: int = Field(default=5, ge=1)
    providers_breaker_recovery_seconds: float = Field(default=30.0, gt=0)
    providers_breaker_half_open_max_calls: int = Field(default=1, ge=1)
    # Request budget per provider (shared by every process through Redis in distributed mode),
    # with per-provider overrides such as {"fred": 2, "ccxt:binance": 10}.
    providers_concurrency: int = Field(default=4, ge=1)
    providers_rate_per_second: float = Field(default=5.0, ge=0)
    providers_concurrency_limits: dict[str, int] = Field(default_factory=dict)
    providers_rate_limits: dict[str, float] = Field(default_factory=dict)
    providers_budget_max_wait_seconds: float = Field(default=5.0, ge=0)
    providers_health_window: int = Field(default=100, ge=1)
    providers_health_min_samples: int = Field(default=5, ge=1)
    providers_health_min_success_rate: float = Field(default=0.5, ge=0, le=1)
    providers_quality_outlier_sigma: float = Field(default=8.0, gt=0)
    providers_quality_stale_bars: int = Field(default=3, ge=1)
    providers_quality_min_score: float = Field(default=0.0, ge=0, le=1)
    providers_record_fetches: bool = True
    providers_files_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=lambda: [Path("var/marketdata")]
    )
    providers_files_demo: bool = True  # the csv provider also serves the bundled demo series
    ecb_url: str = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
    fred_base_url: str = "https://api.stlouisfed.org/fred"
    fred_api_key: SecretStr | None = None
    polygon_base_url: str = "https://api.polygon.io"
    polygon_api_key: SecretStr | None = None
    # ccxt exchange id -> base URL that replaces the scheme and host of its API URLs (proxies).
    ccxt_api_urls: dict[str, str] = Field(default_factory=dict)
    rss_feeds: dict[str, str] = Field(default_factory=dict)  # name -> RSS/Atom URL
    html_rate_tables: dict[str, HtmlRateTable] = Field(default_factory=dict)

    @field_validator("signals_lifetime_bars")
    @classmethod
    def _known_lifetimes(cls, value: dict[str, int]) -> dict[str, int]:
        return check_lifetimes(value)

    @field_validator("monitor_thresholds")
    @classmethod
    def _known_thresholds(
        cls, value: dict[str, tuple[float, float] | None]
    ) -> dict[str, tuple[float, float] | None]:
        for metric, levels in value.items():
            if metric not in DEFAULT_THRESHOLDS:
                known = ", ".join(DEFAULT_THRESHOLDS)
                raise ValueError(f"unknown metric {metric!r} (known: {known})")
            if levels is not None and not 0 <= levels[0] <= levels[1]:
                raise ValueError(f"{metric}: need 0 <= warning <= critical, got {list(levels)}")
        return value

    @field_validator(
        "providers_bars",
        "providers_quotes",
        "providers_fx_rates",
        "providers_fundamentals",
        "providers_fund_navs",
        "providers_economic_series",
        "providers_news",
        "providers_files_dirs",
        "jobs_fx_bases",
        "jobs_economic_series",
        "jobs_fund_navs",
        "cors_origins",
        "trusted_proxies",
        "allowed_hosts",
        "ip_blocklist",
        mode="before",
    )
    @classmethod
    def _split_lists(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                import json

                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("jobs_fx_bases")
    @classmethod
    def _currency_codes(cls, value: list[str]) -> list[str]:
        codes = [code.strip().upper() for code in value]
        bad = [code for code in codes if not (len(code) == 3 and code.isascii() and code.isalpha())]
        if bad:
            raise ValueError(f"not ISO 4217 currency codes: {', '.join(bad)}")
        return list(dict.fromkeys(codes))

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
        found.extend(self.webhooks_problems(production=True))
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
