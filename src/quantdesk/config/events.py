"""Event-bus settings (quantdesk.infra.events), mixed into `Settings`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class EventBusSettings(BaseModel):
    # "memory": events reach subscribers in this process only; "redis" (needs
    # QUANTDESK_REDIS_URL): Redis pub/sub, every process and replica sees every event.
    events_backend: Literal["memory", "redis"] = "memory"
    # Events buffered per subscriber; past it the oldest is dropped (and counted).
    events_queue_size: int = Field(default=1_000, ge=1)
    # Redis only: every event is numbered per topic in Redis (one sequence for every replica)
    # and kept in a per-topic Redis stream for `since_seq` replays: at least this many recent
    # events per topic (XADD MAXLEN ~), the stream deleted after this long without an event.
    events_stream_length: int = Field(default=1_000, ge=1)
    events_stream_ttl_seconds: float = Field(default=3_600.0, gt=0)
