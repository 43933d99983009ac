"""Webhook settings (quantdesk.webhooks, docs/webhooks.md), mixed into `Settings`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode

# The Standard Webhooks schedule after the first attempt (which is immediate), in seconds:
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_RETRY_SCHEDULE = [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]


class WebhookSettings(BaseModel):
    # Run the delivery worker inside each `quantdesk serve` process (and `quantdesk worker`
    # with Celery jobs, through the `webhooks.sweep` job). Off: rows wait in the outbox.
    webhooks_dispatcher_enabled: bool = True
    # Due deliveries claimed per batch, and sent at once per worker.
    webhooks_batch_size: int = Field(default=100, ge=1, le=1000)
    webhooks_concurrency: int = Field(default=32, ge=1, le=500)
    # How often the worker looks for due rows when nothing woke it (new rows written by this
    # process wake it at once; rows written elsewhere, or whose hint was lost, wait this long).
    webhooks_sweep_seconds: float = Field(default=1.0, gt=0, le=60)
    # A claimed row is the worker's for this long; a worker that died leaves it to the next
    # sweep once it runs out. Must exceed the request timeout.
    webhooks_lease_seconds: float = Field(default=60.0, ge=1)
    webhooks_timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    # Seconds to wait before each retry (jittered +-20%); past the last, the delivery fails.
    webhooks_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE)
    )
    # An endpoint that has failed every attempt for this long is disabled, its owner notified.
    webhooks_disable_after_hours: float = Field(default=120.0, gt=0)
    webhooks_response_max_bytes: int = Field(default=20_000, ge=0, le=1_000_000)
    # How long this process trusts its answer to "is any webhook active at all?" (the outbox
    # hook runs in every order placement). A "no" is remembered only by a process that alone
    # changes webhooks (webhooks/outbox.py), so a webhook created on another replica gets
    # every event committed after it. 0: ask the database every time.
    webhooks_subscriptions_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    # "host:port" pairs the SSRF guard lets through (tests' local receivers). Refused in
    # production.
    webhooks_allow_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhooks_max_per_user: int = Field(default=20, ge=1)

    @field_validator("webhooks_allow_hosts", "webhooks_retry_schedule", mode="before")
    @classmethod
    def _split_webhook_lists(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("webhooks_allow_hosts")
    @classmethod
    def _host_ports(cls, value: list[str]) -> list[str]:
        for item in value:
            host, sep, port = item.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"{item!r}: expected host:port")
        return [item.lower() for item in value]

    def webhooks_problems(self, production: bool) -> list[str]:
        """Settings that must not reach production (Settings.problems)."""
        if production and self.webhooks_allow_hosts:
            return [
                "QUANTDESK_WEBHOOKS_ALLOW_HOSTS: lets webhooks reach hosts the SSRF guard "
                "refuses; not allowed in production"
            ]
        return []
