"""Mail and monitoring settings, mixed into `Settings`: where password-reset mail goes, and
the performance monitor's window, thresholds and alert channels (ops/monitor.py). The
thresholds' validator stays on `Settings`, beside the rules it checks against."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class MailSettings(BaseModel):
    # Password-reset mail: "file" writes .eml files into mail_dir, "smtp" sends them.
    mail_backend: Literal["file", "smtp"] = "file"
    mail_dir: Path = Path("var/mail")
    mail_from: str = "quantdesk@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True


class MonitorSettings(BaseModel):
    # The performance monitor (ops/monitor.py) compares metric figures with
    # thresholds every interval and raises alerts. Off unless `quantdesk serve` turns it on
    # (like the job scheduler), so an app built in tests or scripts never alerts by itself.
    # QUANTDESK_MONITOR_ENABLED=false keeps serve from monitoring.
    monitor_enabled: bool = False
    monitor_interval_seconds: float = Field(default=30.0, gt=0)
    # Rates and percentiles are computed over this trailing window, from counter deltas.
    monitor_window_seconds: float = Field(default=300.0, gt=0)
    # A rate or percentile over fewer requests (provider calls) than this is no figure at all.
    monitor_min_samples: int = Field(default=20, ge=1)
    # Overrides of the built-in [warning, critical] levels (observability/figures.py, which
    # names the metrics), e.g. {"api_error_rate": [0.01, 0.1]}; null stops watching one.
    monitor_thresholds: dict[str, tuple[float, float] | None] = Field(default_factory=dict)
    # After an alert about a metric its next one waits this long, except an escalation to
    # critical: a figure hovering around a threshold cannot flood the channels.
    alert_cooldown_seconds: float = Field(default=300.0, ge=0)
    # Channels (the log always gets every alert): a generic webhook POSTed the alert as JSON,
    # a Slack-compatible incoming webhook ({"text": ...}), mail through mail_backend.
    alert_webhook_url: SecretStr | None = None
    alert_slack_webhook_url: SecretStr | None = None
    alert_email_to: str | None = None  # one address or several, comma-separated
    alert_timeout_seconds: float = Field(default=5.0, gt=0)
