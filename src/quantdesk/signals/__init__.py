"""Trading signals: strategy runs stored as signals, their lifecycle, API and CLI."""

# The replay hook that publishes each replayed bar's stored signals (signals/replay.py).
import quantdesk.signals.replay  # noqa: F401
