"""WebSocket stream settings (quantdesk.realtime, docs/realtime.md), mixed into `Settings`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RealtimeSettings(BaseModel):
    # A connection must authenticate (headers or a first `auth` message) within this time.
    realtime_auth_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # Server ping every N seconds; a connection that has not answered the previous one by then
    # is closed (1011).
    realtime_heartbeat_seconds: float = Field(default=25.0, gt=0, le=3600)
    # Open connections per signed-in user (guests: per client IP) in this process.
    realtime_max_connections_per_user: int = Field(default=10, ge=1)
    realtime_max_subscriptions: int = Field(default=128, ge=1)
    realtime_max_frame_bytes: int = Field(default=65_536, ge=1_024)
    realtime_max_commands_per_second: int = Field(default=10, ge=1)
    # Frames waiting for one slow client; past this it is closed with 4008.
    realtime_outbound_queue: int = Field(default=2_000, ge=1)
    # Recent frames kept per stream for `since_seq` replays (0: none), for the streams
    # published to most recently (memory: at most buffer x streams frames).
    realtime_replay_buffer: int = Field(default=200, ge=0)
    realtime_replay_streams: int = Field(default=1_000, ge=1)
    # /health/ready fails while the event-bus subscription has been down this long.
    realtime_bus_down_seconds: float = Field(default=5.0, gt=0)
