"""Market replay: stored bars published one by one as market events with their own times
(`service.ReplayManager`, `POST /api/v1/admin/replay`, `quantdesk replay`; docs/events.md)."""
